/**
 * Right-click → "Classify with Spotter" → overlay, in real Debian Chromium with the built
 * extension (dist/chrome), on a local page that holds the shared photos in every form.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/paths';
import { launchChrome, rightClickAndChoose, type ChromeSession, type MenuClick } from './support/chrome';
import { FIXTURE_CASES, fixturePage, type FixtureCase } from './support/fixture-page';
import { startServer, type FixtureServer } from './support/fixture-server';
import { readOverlays, waitForSettledOverlay } from './support/overlay';

const SCREENSHOTS = path.join(ROOT, 'test-results');

let site: FixtureServer;
let cdn: FixtureServer;
let spotter: ChromeSession;
let page: Page;
const classifiedUrls = new Set<string>();

async function menuClickFor(testCase: FixtureCase): Promise<MenuClick> {
  if (testCase.context === 'page') {
    const background = await page.$eval(`#${testCase.id}`, (el) => /url\("(.*)"\)/.exec(getComputedStyle(el).backgroundImage)?.[1]);
    if (background) classifiedUrls.add(background);
    return {};
  }
  const srcUrl = await page.$eval(`#${testCase.id}`, (el) => (el as HTMLImageElement | HTMLVideoElement).currentSrc);
  if (srcUrl.startsWith('http')) classifiedUrls.add(srcUrl);
  return { mediaType: testCase.context, ...(srcUrl ? { srcUrl } : {}) };
}

async function classify(testCase: FixtureCase) {
  await rightClickAndChoose(spotter, page, `#${testCase.id}`, await menuClickFor(testCase));
  return waitForSettledOverlay(page);
}

async function closeWithEscape() {
  await page.keyboard.press('Escape');
  await expect.poll(() => readOverlays(page).then((o) => o.length)).toBe(0);
}

beforeAll(async () => {
  cdn = await startServer();
  site = await startServer((url) => {
    if (url.pathname === '/page.html') return { status: 200, type: 'text/html', body: fixturePage(cdn.origin) };
    if (url.pathname === '/not-an-image.jpg') return { status: 200, type: 'text/html', body: '<!doctype html><p>Sorry, this is a web page.</p>' };
    return undefined;
  });
  spotter = await launchChrome();
  page = await spotter.browser.newPage();
  await page.goto(`${site.origin}/page.html`);
  await page.waitForFunction('window.fixtureReady');
  await page.evaluate('window.fixtureReady');
  await mkdir(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await spotter?.close();
  await site?.close();
  await cdn?.close();
});

describe('Spotter in Chromium: right-click classify', () => {
  it('the popup reports the model ready on the fastest measured backend', async () => {
    const popup = await spotter.browser.newPage();
    await popup.goto(spotter.extensionUrl('src/popup/popup.html'));
    await popup.waitForSelector('[data-engine-state="ready"]', { timeout: 60_000 });
    const backend = await popup.$eval('[data-testid="backend"]', (el) => el.textContent);
    const measured = await popup.$eval('[data-engine-state]', (el) => el.textContent ?? '');
    expect(['webgl', 'wasm', 'cpu']).toContain(backend);
    // The first load probes; the popup shows what was measured.
    expect(measured).toMatch(/measured: .*wasm \d+ ms/);
    await popup.close();
    await spotter.offscreenTarget();
  });

  for (const testCase of FIXTURE_CASES) {
    it(`${testCase.id}: ${testCase.expectLabel ? `shows "${testCase.expectLabel}" first` : `explains ${testCase.expectError}`}`, async () => {
      const overlay = await classify(testCase);
      expect(overlay.shadowRootType).toBe('closed');
      if (testCase.expectLabel) {
        expect(overlay.state, overlay.text).toBe('done');
        expect(overlay.labels).toHaveLength(3);
        expect(overlay.labels[0]!.label).toBe(testCase.expectLabel);
        expect(overlay.labels[0]!.text).toMatch(new RegExp(`^${testCase.expectLabel} (\\d+|<1) %$`));
      } else {
        expect(overlay.state).toBe('error');
        expect(overlay.error).toMatch(testCase.expectError!);
      }
      if (testCase.id === 'plain-img') {
        const box = (await (await page.$('#plain-img'))!.boundingBox())!;
        await page.screenshot({ path: path.join(SCREENSHOTS, 'chrome-overlay.png'), clip: { x: Math.max(0, box.x - 10), y: Math.max(0, box.y - 10), width: box.width + 200, height: box.height + 20 } });
      }
      await closeWithEscape();
    });
  }

  it('the overlay follows its image on scroll, and × closes it', async () => {
    await classify({ id: 'plain-img', context: 'image' });
    const frameTop = async () => Number(/top:\s*([\d.-]+)px/.exec((await readOverlays(page))[0]?.frameStyle ?? '')?.[1]);
    const imageTop = () => page.$eval('#plain-img', (el) => el.getBoundingClientRect().top);
    expect(await frameTop()).toBeCloseTo(await imageTop(), 0);
    await page.evaluate(() => window.scrollBy(0, 60));
    await expect.poll(async () => Math.abs((await frameTop()) - (await imageTop()))).toBeLessThan(1);

    const client = await page.createCDPSession();
    const { root } = (await client.send('DOM.getDocument', { depth: -1, pierce: true })) as { root: { nodeId: number } };
    const { nodeIds } = await client.send('DOM.querySelectorAll', { nodeId: root.nodeId, selector: 'spotter-overlay' });
    const { model } = await client.send('DOM.getBoxModel', { nodeId: nodeIds[0]! }).catch(() => ({ model: null }));
    void model; // the host itself is 0x0; the × button is inside the closed root
    const closeButton = await client.send('DOM.describeNode', { nodeId: nodeIds[0]!, depth: -1, pierce: true });
    expect(closeButton.node.shadowRoots?.[0]?.shadowRootType).toBe('closed');
    await client.detach();
    // Click × where it is drawn: top-right of the panel, which sits 8 px inside the image.
    const box = (await (await page.$('#plain-img'))!.boundingBox())!;
    await page.mouse.click(box.x + 8 + 240 - 10 - 11, box.y + 8 + 8 + 11);
    await expect.poll(() => readOverlays(page).then((o) => o.length)).toBe(0);
  });

  it('never touches the page: same DOM before and after, and page scripts cannot see inside', async () => {
    const before = await page.evaluate(() => document.body.outerHTML);
    await classify({ id: 'plain-img', context: 'image' });
    const after = await page.evaluate(() => ({
      body: document.body.outerHTML,
      host: document.querySelector('spotter-overlay')?.parentElement?.tagName,
      shadow: document.querySelector('spotter-overlay')?.shadowRoot ?? null,
      text: document.documentElement.innerText.includes('giant panda'),
    }));
    expect(after.body).toBe(before);
    expect(after.host).toBe('HTML');
    expect(after.shadow).toBeNull();
    expect(after.text).toBe(false);
    await closeWithEscape();
  });

  it('survives a service-worker restart between two clicks', async () => {
    expect((await classify({ id: 'plain-img', context: 'image' })).labels[0]!.label).toBe('giant panda');
    await closeWithEscape();
    await spotter.stopWorker();
    await expect.poll(() => spotter.workerRunning()).toBe(false);
    // Opening the popup wakes the worker, as a real menu click would.
    const popup = await spotter.browser.newPage();
    await popup.goto(spotter.extensionUrl('src/popup/popup.html'));
    expect(await spotter.inWorker(() => 'awake', null)).toBe('awake');
    await popup.waitForSelector('[data-engine-state="ready"]', { timeout: 60_000 });
    await popup.close();
    await page.bringToFront();
    expect((await classify({ id: 'picture-img', context: 'image' })).labels[0]!.label).toBe('zebra');
    await closeWithEscape();
  });

  it('recreates the offscreen document if it was closed', async () => {
    await spotter.inWorker(() => chrome.offscreen.closeDocument(), null);
    await expect.poll(() => spotter.browser.targets().some((t) => t.url().endsWith('offscreen.html'))).toBe(false);
    expect((await classify({ id: 'srcset-img', context: 'image' })).labels[0]!.label).toBe('pizza');
    await closeWithEscape();
  });

  it('made no network request except the image fetches', () => {
    const extensionOrigin = spotter.extensionUrl('');
    const external = spotter.requests.filter(({ url }) => !url.startsWith(extensionOrigin) && !url.startsWith('data:') && !url.startsWith('blob:'));
    for (const { url } of external) expect([site.origin, cdn.origin]).toContain(new URL(url).origin);
    const fromExtension = external.filter(({ target }) => target.startsWith(extensionOrigin));
    expect(fromExtension.length).toBeGreaterThan(0);
    for (const { url } of fromExtension) expect(classifiedUrls).toContain(url);
    // The cross-origin server saw only image requests.
    for (const request of cdn.requests) expect(request).toMatch(/^\/photos\//);
  });
});
