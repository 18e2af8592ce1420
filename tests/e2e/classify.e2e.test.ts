/**
 * Right-click → "Classify with Spotter" → overlay, with the built extension in real Debian
 * Chromium (dist/chrome) and Firefox ESR (dist/firefox), on a local page that holds the shared
 * photos in every form. The same scenarios run in both; the ones about Chrome's service worker and
 * offscreen document run in Chromium only, because Firefox has neither.
 */
import { readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/paths';
import { askFrom, E2E_BROWSERS, launchSpotter, openPopupFor, type SpotterSession } from './support/browsers';
import { CHROME_DIST, type MenuClick } from './support/chrome';
import { FIXTURE_CASES, FRAME_PAGE, fixturePage, type FixtureCase } from './support/fixture-page';
import { startServer, type FixtureServer } from './support/fixture-server';
import { waitForSettledOverlay } from './support/overlay';

const SCREENSHOTS = path.join(ROOT, 'test-results');

describe.each(E2E_BROWSERS)('Spotter in %s: right-click classify', (browserName) => {
  let site: FixtureServer;
  let cdn: FixtureServer;
  let spotter: SpotterSession;
  let page: Page;
  const classifiedUrls = new Set<string>();
  /** What the popup listed: it downloads each to classify it. */
  const listedByPopup: string[] = [];

  async function menuClickFor(testCase: FixtureCase): Promise<MenuClick> {
    if (testCase.context === 'page') {
      const background = await page.$eval(`#${testCase.id}`, (el) => /url\("(.*)"\)/.exec(getComputedStyle(el).backgroundImage)?.[1]);
      if (background) classifiedUrls.add(background);
      return {};
    }
    const srcUrl = testCase.srcUrl ? new URL(testCase.srcUrl, page.url()).href : await page.$eval(`#${testCase.id}`, (el) => (el as HTMLImageElement | HTMLVideoElement).currentSrc);
    if (srcUrl.startsWith('http')) classifiedUrls.add(srcUrl);
    return { mediaType: testCase.context, ...(srcUrl ? { srcUrl } : {}) };
  }

  async function classify(testCase: FixtureCase) {
    await spotter.chooseMenuItem(page, `#${testCase.id}`, await menuClickFor(testCase));
    return waitForSettledOverlay(page, 30_000, spotter.overlays);
  }

  /** Labels four photos of the fixture page "animal" and "food" (delete both labels afterwards). */
  async function addTwoLabels(control: Page) {
    const pageUrl = `${site.origin}/page.html`;
    const examples = [['imagenet_n02510455_giant_panda.jpg', 'animal'], ['imagenet_n02391049_zebra.jpg', 'animal'], ['imagenet_n07873807_pizza.jpg', 'food'], ['coral_hot_dog.jpg', 'food']];
    for (const [file, label] of examples) {
      listedByPopup.push(`${site.origin}/photos/${file}`); // downloaded to be labelled
      expect(await askFrom(control, { type: 'add-example', source: { url: `${site.origin}/photos/${file}`, pageUrl }, label, pageUrl })).toMatchObject({ ok: true });
    }
  }

  async function closeWithEscape() {
    await page.keyboard.press('Escape');
    await expect.poll(() => spotter.overlays(page).then((o) => o.length)).toBe(0);
  }

  /**
   * Puts two nested frames at the top of the page: #outer-frame (from `outer`: by default the
   * other site, 127.0.0.2; with a border and padding, moved right) holding a frame of the page's
   * site (border and padding of its own) whose page is `inner`; resolves to that inner frame's id
   * once its canvas is drawn and its content script runs. `control`: a Spotter page to use the
   * extension APIs from. `outerCss`: more style for #outer-frame (a transform or zoom).
   */
  async function addNestedFrames(control: Page, inner: 'canvas' | 'quadrants', outer: FixtureServer = cdn, outerCss = ''): Promise<number> {
    // Loaded in the tab in front: Chromium lays out and hit-tests frames of a tab behind only later.
    await page.bringToFront();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.evaluate(
      (src: string, css: string) => {
        const frame = Object.assign(document.createElement('iframe'), { id: 'outer-frame', src, width: 420, height: 330 });
        frame.style.cssText = `border: 3px solid #444; padding: 5px; margin-left: 60px; ${css}`;
        document.body.prepend(frame);
        return new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
      },
      `${outer.origin}/outer-frame.html?inner=${inner}`,
      outerCss,
    );
    return drawnFrame(control, `/${inner}-frame.html`);
  }

  /** The id of the frame at `pathname` in the page, once its canvas is drawn and Spotter's content script listens there. */
  async function drawnFrame(control: Page, pathname: string): Promise<number> {
    return control.evaluate(
      async (tab: number, pathname: string) => {
        const extension = ((globalThis as unknown as { browser?: typeof chrome }).browser ?? chrome) as typeof chrome;
        for (;;) {
          const frames = await extension.scripting.executeScript({ target: { tabId: tab, allFrames: true }, func: (path: string) => location.pathname === path && document.body?.dataset.drawn === '1', args: [pathname] });
          const frame = frames.find((result) => result.result === true);
          // Drawn, and Spotter's content script listens there (it may run after this injection, both at document_idle).
          const listening = frame && (await extension.tabs.sendMessage(tab, { type: 'describe-overlays' }, { frameId: frame.frameId }).then(() => true, () => false));
          if (frame && listening) return frame.frameId;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
      await spotter.tabIdOf(page),
      pathname,
    );
  }

  /**
   * Waits for the example that "Label as" → quadrants stores, checks that its thumbnail is the
   * quadrants canvas to the pixel, and deletes the label.
   */
  async function expectQuadrantsKept(control: Page) {
    const dataset = async () => (await askFrom<{ labels: { label: string; examples: { thumbnail: string }[] }[] }>(control, { type: 'list-dataset' })).result.labels;
    await expect.poll(async () => (await dataset()).some((group) => group.label === 'quadrants'), { timeout: 30_000 }).toBe(true);
    const thumbnail = (await dataset()).find((group) => group.label === 'quadrants')!.examples[0]!.thumbnail;
    // The thumbnail is the whole (square) picture kept: each corner must show its quadrant's colour,
    // 3 % in from the edge; a picture moved by a frame's border or padding (4-10 px of 160) shows white
    // there, an overlay left in the picture its dark panel.
    const corners = await control.evaluate(async (url: string) => {
      const bitmap = await createImageBitmap(await (await fetch(url)).blob());
      const context = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
      context.drawImage(bitmap, 0, 0);
      const at = (fx: number, fy: number) => Array.from(context.getImageData(Math.round(fx * (bitmap.width - 1)), Math.round(fy * (bitmap.height - 1)), 1, 1).data.slice(0, 3));
      return [at(0.03, 0.03), at(0.97, 0.03), at(0.03, 0.97), at(0.97, 0.97)];
    }, thumbnail);
    const expected = [[224, 0, 0], [0, 192, 0], [0, 0, 224], [224, 224, 0]];
    corners.forEach((rgb, corner) => rgb.forEach((value, channel) => expect(Math.abs(value - expected[corner]![channel]!), `corner ${corner}: ${rgb}`).toBeLessThan(48)));
    expect(await askFrom(control, { type: 'delete-label', label: 'quadrants' })).toMatchObject({ ok: true, result: { deleted: 1 } });
  }

  /** A frame page holding, lower down, a frame of the page's site (with a canvas). */
  function outerFrame(url: URL) {
    const inner = url.searchParams.get('inner') === 'quadrants' ? 'quadrants-frame.html' : 'canvas-frame.html'; // nothing else is served
    return { status: 200, type: 'text/html', body: `<!doctype html><body style="margin:0;padding:30px 0 0 50px"><iframe id="inner" src="${site.origin}/${inner}" width="300" height="230" style="border:4px solid #888;padding:6px"></iframe>` };
  }

  beforeAll(async () => {
    // Another site (127.0.0.2), which sets a cookie of its own when visited.
    cdn = await startServer((url) => {
      if (url.pathname === '/visit.html') return { status: 200, type: 'text/html', body: '<!doctype html><p>cdn', headers: { 'set-cookie': 'cdn-session=1; Path=/' } };
      // A frame of the other site showing a picture from the page's own site.
      if (url.pathname === '/cross-site-frame.html') return { status: 200, type: 'text/html', body: `<!doctype html><body style="margin:0"><img src="${site.origin}/photos/coral_grace_hopper.jpg" style="width:280px;height:210px;display:block" alt="in another site's frame">` };
      // A frame of the other site holding, lower down, a frame of the page's site (with a canvas).
      if (url.pathname === '/outer-frame.html') return outerFrame(url);
      return undefined;
    }, '127.0.0.2');
    site = await startServer((url) => {
      if (url.pathname === '/page.html') return { status: 200, type: 'text/html', body: fixturePage(cdn.origin), headers: { 'set-cookie': 'site-session=1; Path=/' } };
      if (url.pathname === '/frame.html') return { status: 200, type: 'text/html', body: FRAME_PAGE };
      // The same two frames, both of the page's site.
      if (url.pathname === '/outer-frame.html') return outerFrame(url);
      // Four coloured quadrants on a canvas that another site's picture (drawn out of view) taints.
      if (url.pathname === '/quadrants-frame.html') {
        const draw = `const c = document.querySelector('canvas').getContext('2d'); [['#e00000', 0, 0], ['#00c000', 80, 0], ['#0000e0', 0, 80], ['#e0e000', 80, 80]].forEach(([colour, x, y]) => { c.fillStyle = colour; c.fillRect(x, y, 80, 80); }); const i = new Image(); i.onload = () => { c.drawImage(i, -1000, -1000); document.body.dataset.drawn = '1'; }; i.src = '${cdn.origin}/photos/imagenet_n07753592_banana.jpg';`;
        return { status: 200, type: 'text/html', body: `<!doctype html><body style="margin:0;background:#fff"><canvas width="160" height="160" style="display:block;margin:12px 0 0 8px"></canvas><script>${draw}</script>` };
      }
      // A canvas showing the other site's banana, drawn without CORS: no one may copy its pixels.
      if (url.pathname === '/canvas-frame.html') {
        const draw = `const i = new Image(); i.onload = () => { document.querySelector('canvas').getContext('2d').drawImage(i, 0, 0, 280, 210); document.body.dataset.drawn = '1'; }; i.src = '${cdn.origin}/photos/imagenet_n07753592_banana.jpg';`;
        return { status: 200, type: 'text/html', body: `<!doctype html><body style="margin:0"><canvas width="280" height="210" style="display:block;margin:12px 0 0 8px"></canvas><script>${draw}</script>` };
      }
      if (url.pathname === '/not-an-image.jpg') return { status: 200, type: 'text/html', body: '<!doctype html><p>Sorry, this is a web page.</p>' };
      return undefined;
    });
    spotter = await launchSpotter(browserName);
    const visit = await spotter.browser.newPage();
    await visit.goto(`${cdn.origin}/visit.html`);
    await visit.close();
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

  it('the popup reports the model ready on the fastest measured backend', async () => {
    const popup = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    await popup.waitForSelector('[data-engine-state="ready"]', { timeout: 60_000 });
    const backend = await popup.$eval('[data-testid="backend"]', (el) => el.textContent);
    const measured = await popup.$eval('[data-engine-state]', (el) => el.textContent ?? '');
    // The first load probes; the popup shows what was measured, and the backend in use is the fastest of those.
    expect(measured).toMatch(/measured: .*wasm \d+ ms/);
    const timings = [...measured.matchAll(/(webgl|wasm|cpu) (?:([\d.]+) (ms|s))/g)].map(([, name, value, unit]) => ({ name, ms: Number(value) * (unit === 's' ? 1000 : 1) }));
    expect(timings.length).toBeGreaterThan(0);
    expect(backend).toBe(timings.reduce((best, timing) => (timing.ms < best.ms ? timing : best)).name);
    await popup.close();
    await page.bringToFront();
  });

  // Before any menu click in this file: a click whose request never came (a blank canvas) leaves its ticket for a minute.
  // Chromium only: it runs code in the content script's isolated world through a DevTools protocol
  // session (page.createCDPSession), which puppeteer has only for Chrome; Firefox is driven over WebDriver BiDi.
  it.skipIf(browserName !== 'chromium')("the content script's own requests are refused unless the user just chose the menu item", async () => {
    // Run code in Spotter's content script itself (its isolated world, found over DevTools), as a
    // compromised page process could.
    const session = await page.createCDPSession();
    const contexts: { id: number; name: string; auxData?: { type?: string; isDefault?: boolean } }[] = [];
    session.on('Runtime.executionContextCreated', ({ context }) => contexts.push(context));
    await session.send('Runtime.enable');
    const world = contexts.find((context) => context.auxData?.type === 'isolated' && context.name === 'Spotter');
    expect(world).toBeDefined();
    const ask = async (message: unknown) =>
      (
        await session.send('Runtime.evaluate', {
          contextId: world!.id,
          expression: `chrome.runtime.sendMessage(${JSON.stringify(message)})`,
          awaitPromise: true,
          returnByValue: true,
        })
      ).result.value as { ok: boolean; error?: { message: string } };
    const photo = `${site.origin}/photos/imagenet_n02510455_giant_panda.jpg`;
    expect(await ask({ type: 'classify-image', source: { url: photo } })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/only right after you choose it in the right-click menu/) } });
    expect(await ask({ type: 'add-example', source: { url: photo }, label: 'planted', pageUrl: site.origin })).toMatchObject({ ok: false });
    // Requests only the extension's pages may make are refused outright.
    expect(await ask({ type: 'list-dataset' })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/not allowed from this sender/) } });
    // Reading the screen for the popup's grid included: a page must not get pictures of the screen.
    expect(await ask({ type: 'read-from-screen', tabId: await spotter.tabIdOf(page), imageId: 'x-1' })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/not allowed from this sender/) } });
    await session.detach();
  });

  for (const testCase of FIXTURE_CASES) {
    // A case only one browser can show here (its onlyIn says why) is skipped, visibly, in the other.
    it.skipIf(testCase.onlyIn !== undefined && testCase.onlyIn !== browserName)(`${testCase.id}: ${testCase.expectLabel ? `shows "${testCase.expectLabel}" first` : `explains ${testCase.expectError}`}`, async () => {
      const overlay = await classify(testCase);
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
        await page.screenshot({ path: path.join(SCREENSHOTS, `${browserName}-overlay.png`), clip: { x: Math.max(0, box.x - 10), y: Math.max(0, box.y - 10), width: box.width + 200, height: box.height + 20 } });
      }
      await closeWithEscape();
    });
  }

  // Chrome allows two captures a second, so the second read waits ~550 ms behind the first. The first
  // one's end used to show every overlay again, the second canvas's own "working" frame included,
  // which then was in its picture: the never-drawn canvas read as "web site" instead of flat.
  it('two canvases read from the screen in quick succession: the second picture has no overlay in it', async () => {
    await spotter.chooseMenuItem(page, '#tainted-canvas', {});
    await spotter.chooseMenuItem(page, '#blank-canvas', {});
    let settled: { state: string | null; error: string | null; top: string | undefined }[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      settled = (await spotter.overlays(page)).filter((o) => o.state === 'done' || o.state === 'error').map((o) => ({ state: o.state, error: o.error, top: o.labels[0]?.label }));
      if (settled.length === 2 || (browserName === 'firefox' && settled.length === 1)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // The blank canvas, read second, while the first read was still on its way.
    expect(settled.find((o) => o.state === 'error')?.error).toMatch(/^This image is one flat colour/);
    // In Firefox the harness's Esc for the browser's own menu closes the first overlay (its read goes on).
    if (browserName === 'chromium') expect(settled.find((o) => o.state === 'done')?.top).toBe('dragonfly');
    while ((await spotter.overlays(page)).length > 1) await page.keyboard.press('Escape');
    await closeWithEscape();
  });

  it('the overlay follows its image on scroll, and × closes it', async () => {
    // From the top, whatever the cases above scrolled to: the × is clicked where the panel is drawn.
    await page.evaluate(() => window.scrollTo(0, 0));
    await classify({ id: 'plain-img', context: 'image' });
    const frameTop = async () => Number(/top:\s*([\d.-]+)px/.exec((await spotter.overlays(page))[0]?.frameStyle ?? '')?.[1]);
    const imageTop = () => page.$eval('#plain-img', (el) => el.getBoundingClientRect().top);
    expect(await frameTop()).toBeCloseTo(await imageTop(), 0);
    await page.evaluate(() => window.scrollBy(0, 60));
    await expect.poll(async () => Math.abs((await frameTop()) - (await imageTop()))).toBeLessThan(1);
    // Click × where it is drawn: top-right of the panel, which sits 8 px inside the image.
    const box = (await (await page.$('#plain-img'))!.boundingBox())!;
    await page.mouse.click(box.x + 8 + 240 - 10 - 11, box.y + 8 + 8 + 11);
    await expect.poll(() => spotter.overlays(page).then((o) => o.length)).toBe(0);
  });

  // Spotter injects its content script into a frame where none answers yet (a tab still loading
  // when the popup asks, or open since before the install); the manifest's copy may then run there too.
  it('a second copy of the content script in a frame stays quiet: one overlay per click', async () => {
    const tabId = await spotter.tabIdOf(page);
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    await control.evaluate(async (tab: number) => {
      const api = ((globalThis as unknown as { browser?: typeof chrome }).browser ?? chrome) as typeof chrome;
      const files = api.runtime.getManifest().content_scripts!.flatMap((script) => script.js ?? []);
      await api.scripting.executeScript({ target: { tabId: tab, frameIds: [0] }, files });
    }, tabId);
    await control.close();
    await page.bringToFront();
    await page.evaluate(() => window.scrollTo(0, 0));
    const overlay = await classify({ id: 'plain-img', context: 'image' });
    expect(overlay.labels[0]?.label).toBe('giant panda');
    // Give a second copy time to open its own overlay, then count.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await spotter.overlays(page)).map((o) => o.state)).toEqual(['done']);
    await closeWithEscape();
  });

  it('"New label…" asks with the page\'s own prompt and keeps the example under the typed label', async () => {
    page.once('dialog', (dialog) => void dialog.accept('kitchenware'));
    await spotter.chooseMenuItem(page, '#canvas', { menuItemId: 'spotter-label-new' });
    const overlay = await waitForSettledOverlay(page, 30_000, spotter.overlays);
    expect(overlay.text).toMatch(/Saved as kitchenware/);
    await closeWithEscape();
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    expect(await askFrom(control, { type: 'delete-label', label: 'kitchenware' })).toMatchObject({ ok: true, result: { deleted: 1 } });
    await control.close();
    await page.bringToFront();
  });

  // A sandboxed frame without allow-modals gets null from prompt() at once, with no dialog: "New label…" did nothing at all.
  it('"New label…" in a frame that may not open dialogs says so', async () => {
    await page.evaluate(() => {
      const frame = Object.assign(document.createElement('iframe'), { id: 'no-modals-frame', src: '/frame.html', width: 300, height: 230 });
      frame.setAttribute('sandbox', 'allow-scripts allow-same-origin');
      document.body.prepend(frame);
      return new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
    });
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    const tabId = await spotter.tabIdOf(page);
    const frameId = await control.evaluate(async (tab: number) => {
      const extension = ((globalThis as unknown as { browser?: typeof chrome }).browser ?? chrome) as typeof chrome;
      for (;;) {
        const frames = await extension.scripting.executeScript({ target: { tabId: tab, allFrames: true }, func: () => window.frameElement?.id ?? '' });
        const frame = frames.find((result) => result.result === 'no-modals-frame');
        if (frame) return frame.frameId;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }, tabId);
    await page.bringToFront();
    let dialogs = 0;
    const countDialog = () => void dialogs++;
    page.on('dialog', countDialog);
    await spotter.chooseMenuItem(page, '#no-modals-frame', { menuItemId: 'spotter-label-new', frameId });
    // The frame's own overlays, as its content script describes them (it can read its closed roots).
    const frameOverlays = () =>
      control.evaluate(async (tab: number, frame: number) => {
        const extension = ((globalThis as unknown as { browser?: typeof chrome }).browser ?? chrome) as typeof chrome;
        return (await extension.tabs.sendMessage(tab, { type: 'describe-overlays' }, { frameId: frame })) as { state: string; error: string | null }[];
      }, tabId, frameId);
    await expect.poll(frameOverlays, { timeout: 15_000 }).toEqual([expect.objectContaining({ state: 'error', error: expect.stringMatching(/^This page does not let Spotter ask for a new label here/) })]);
    page.off('dialog', countDialog);
    expect(dialogs).toBe(0);
    await control.close();
    await page.evaluate(() => document.getElementById('no-modals-frame')?.remove());
  });

  it("a page's own forged right-click does not change what Spotter classifies", async () => {
    // The user right-clicks the canvas; the page then fires a contextmenu event of its own on the school bus.
    const forge = `(() => {
      const bus = document.getElementById('css-background').getBoundingClientRect();
      document.getElementById('css-background').dispatchEvent(new MouseEvent('contextmenu', { bubbles: true, composed: true, clientX: bus.x + 10, clientY: bus.y + 10 }));
    })()`;
    await spotter.chooseMenuItem(page, '#canvas', { pageRunsInBetween: forge });
    const overlay = await waitForSettledOverlay(page, 30_000, spotter.overlays);
    expect(overlay.labels[0]?.label, overlay.text).toBe('teapot');
    await closeWithEscape();
  });

  it('a menu command that cannot reach the page marks the toolbar button, and the next one that does clears it', async () => {
    const click = await menuClickFor({ id: 'plain-img', context: 'image' });
    // A frame that does not exist: Spotter can neither message nor inject into it.
    await spotter.chooseMenuItem(page, '#plain-img', { ...click, frameId: 987_654 });
    await expect.poll(() => spotter.toolbarOf(page).then((toolbar) => toolbar.badge), { timeout: 10_000 }).toBe('!');
    expect((await spotter.toolbarOf(page)).title).toMatch(/^Spotter cannot work on this page \(.+\)/);
    expect(await classify({ id: 'plain-img', context: 'image' })).toMatchObject({ state: 'done' });
    await expect.poll(() => spotter.toolbarOf(page), { timeout: 10_000 }).toEqual({ badge: '', title: 'Spotter' });
    await closeWithEscape();
  });

  it("the popup lists the page's images, including those in a same-origin frame and in web components' open and closed shadow roots; a thumbnail shows its image on the page", async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    const popup = await openPopupFor(spotter, page);
    const urls = await popup.waitForFunction(
      () => {
        const cards = [...document.querySelectorAll('.card')].map((card) => card.getAttribute('data-url') ?? '');
        const hidden = ['/photos/coral_bird_chickadee.jpg', '/photos/coral_parrot.jpg', '/photos/coral_cat.jpg'];
        return hidden.every((photo) => cards.some((url) => url.endsWith(photo))) ? cards : null;
      },
      { timeout: 60_000 },
    );
    const listed = (await urls.jsonValue()) as string[];
    listedByPopup.push(...listed);
    // Each picture once, even the ones shown twice (the panda is on the page two times).
    expect(listed.filter((url) => url.endsWith('/photos/imagenet_n02510455_giant_panda.jpg'))).toHaveLength(1);
    expect(new Set(listed).size).toBe(listed.length);

    // The cat (in a closed shadow root, below the fold) is scrolled to and outlined.
    const catInView = () => page.evaluate(() => {
      const box = document.getElementById('closed-component')!.getBoundingClientRect();
      return box.top >= 0 && box.bottom <= window.innerHeight;
    });
    expect(await catInView()).toBe(false);
    // By keyboard, as the popup is meant to be usable: focus the thumbnail's button and press Enter.
    await popup.focus('.card[data-url$="/photos/coral_cat.jpg"] .thumb');
    await popup.keyboard.press('Enter');
    await expect.poll(() => spotter.overlays(page).then((overlays) => overlays.map((o) => o.state)), { timeout: 10_000 }).toEqual(['highlight']);
    expect(await catInView()).toBe(true);
    await popup.close();
    await page.bringToFront();
    await expect.poll(() => spotter.overlays(page).then((o) => o.length), { timeout: 10_000 }).toBe(0);
  });

  it('the popup, open over its page, reads the canvases no one may copy from the screen', async () => {
    const tabId = await spotter.tabIdOf(page);
    const view = spotter.extensionUrl(`src/popup/popup.html?tabId=${tabId}`);
    // The toolbar popup leaves its tab in front: here the view gets a window of its own, the page stays shown.
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    await control.evaluate(async (url: string) => {
      const api = ((globalThis as unknown as { browser?: typeof chrome }).browser ?? chrome) as typeof chrome;
      await api.windows.create({ url, type: 'popup', width: 520, height: 700 });
    }, view);
    await control.close();
    await page.bringToFront();
    await page.evaluate(() => document.getElementById('blank-canvas')!.scrollIntoView({ block: 'start' }));
    // By the address its document reports (Firefox's automation does not follow extension pages' URLs).
    const shown = async () => {
      for (const candidate of await spotter.browser.pages()) if ((await candidate.evaluate(() => location.href).catch(() => '')) === view) return candidate;
      return undefined;
    };
    await expect.poll(shown, { timeout: 15_000 }).toBeDefined();
    const popup = (await shown())!;
    // Canvases are listed in page order: the teapot (copied as usual), then the blank, tainted and WebGL ones (read from the screen).
    const canvasCards = () =>
      popup.evaluate(() =>
        [...document.querySelectorAll('.card')]
          .filter((card) => card.getAttribute('data-url')?.startsWith('canvas:'))
          .map((card) => ({ state: card.getAttribute('data-state'), label: card.getAttribute('data-top-label') ?? '', error: card.querySelector('.error')?.textContent ?? null })),
      );
    const count = 4;
    let cards = await canvasCards();
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; cards = await canvasCards()) {
      if (cards.length === count && cards.every((card) => card.state !== 'pending')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(cards.map((card) => card.state), JSON.stringify(cards)).toEqual(Array(count).fill(expect.stringMatching(/^(done|error)$/)));
    const [teapot, blank, tainted, webgl] = cards;
    expect(teapot!.label).toBe('teapot');
    expect(blank!.error).toMatch(/one flat colour/);
    expect(tainted!.label, tainted!.error ?? '').toBe('dragonfly');
    // Where the browser has WebGL (headless Firefox without a display has none, and the canvas stays blank).
    const drawn = await page.evaluate(() => (document.getElementById('webgl-canvas') as HTMLCanvasElement).getContext('webgl') !== null);
    // Chromium here draws WebGL: if it stops, this must fail rather than pass as "flat colour".
    if (browserName === 'chromium') expect(drawn).toBe(true);
    if (drawn) expect(webgl!.label, webgl!.error ?? '').toBe('banana');
    else expect(webgl!.error).toMatch(/one flat colour/);
    await popup.close();
    await page.bringToFront();
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it("a card keeps meaning the picture it showed when the page swaps the element's source", async () => {
    const popup = await openPopupFor(spotter, page);
    const pandaCard = '.card[data-url$="/photos/imagenet_n02510455_giant_panda.jpg"]';
    await popup.waitForSelector(`${pandaCard}[data-state="done"]`, { timeout: 60_000 });
    // A slideshow moves on: both elements that showed the panda now show a banana.
    const swap = (to: string) => page.evaluate((src: string) => {
      for (const id of ['plain-img', 'panda-again']) (document.getElementById(id) as HTMLImageElement).src = src;
    }, to);
    await swap('/photos/imagenet_n07753592_banana.jpg');
    await popup.type(`${pandaCard} input`, 'bears');
    await popup.keyboard.press('Enter');
    await popup.waitForSelector(`${pandaCard} [data-testid="saved"]`, { timeout: 30_000 });
    const dataset = await askFrom<{ labels: { label: string; examples: { imageUrl: string }[] }[] }>(popup, { type: 'list-dataset' });
    const stored = dataset.result.labels.find((group) => group.label === 'bears')?.examples.map((example) => example.imageUrl);
    expect(stored).toHaveLength(1);
    expect(stored![0]).toMatch(/\/photos\/imagenet_n02510455_giant_panda\.jpg$/);
    // Leave the page and the dataset as they were.
    expect(await askFrom(popup, { type: 'delete-label', label: 'bears' })).toMatchObject({ ok: true });
    // The open popup lists (and so downloads) whatever the page shows, the banana included.
    listedByPopup.push(...(await popup.$$eval('.card', (cards) => cards.map((card) => card.getAttribute('data-url') ?? ''))), `${site.origin}/photos/imagenet_n07753592_banana.jpg`);
    await popup.close();
    await page.bringToFront();
    await swap('/photos/imagenet_n02510455_giant_panda.jpg');
    await page.waitForFunction(() => (document.getElementById('plain-img') as HTMLImageElement).complete);
  });

  it('a slideshow element keeps ids for its latest 8 pictures, one per picture, so the page does not collect ids for as long as it is open', async () => {
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    const tabId = await spotter.tabIdOf(page);
    const ask = (command: object) =>
      control.evaluate(async (tab: number, message: object) => {
        const extension = ((globalThis as unknown as { browser?: typeof chrome }).browser ?? chrome) as typeof chrome;
        return extension.tabs.sendMessage(tab, message, { frameId: 0 }).then((result: unknown) => ({ ok: true as const, result }), (error: Error) => ({ ok: false as const, message: error.message }));
      }, tabId, command);
    // Each picture at an address of its own (the server ignores the query), as a slideshow's would be.
    const show = (slide: number) =>
      page.evaluate(async (src: string) => {
        let slideshow = document.getElementById('slideshow') as HTMLImageElement | null;
        if (!slideshow) document.body.append((slideshow = Object.assign(document.createElement('img'), { id: 'slideshow', width: 200, height: 150 })));
        // Its load event, not decode(): Firefox's decode() now and then rejects a request just made ("Invalid image request").
        await new Promise((resolve, reject) => {
          slideshow!.onload = resolve;
          slideshow!.onerror = reject;
          slideshow!.src = src;
        });
      }, `/photos/imagenet_n04146614_school_bus.jpg?slide=${slide}`);
    const slideIds: string[] = [];
    const listedId = async (slide: number) => {
      const reply = await ask({ type: 'collect-images' });
      return (reply.ok ? (reply.result as { images: { imageId: string; url: string }[] }).images : []).find((image) => image.url.endsWith(`?slide=${slide}`))?.imageId;
    };
    for (let slide = 0; slide < 10; slide++) {
      await show(slide);
      // As the popup does, collect until the picture shows (layout may follow the decode by a frame).
      await expect.poll(() => listedId(slide), { timeout: 5_000 }).toBeDefined();
      slideIds.push((await listedId(slide))!);
    }
    expect(new Set(slideIds).size).toBe(10);
    // A picture that comes back gets its id back (an open card for it keeps working).
    await show(5);
    await expect.poll(() => listedId(5), { timeout: 5_000 }).toBe(slideIds[5]);
    // The latest 8 still name their own pictures; the 2 before them are gone, with the popup's message.
    for (const [slide, imageId] of slideIds.entries()) {
      const reply = await ask({ type: 'resolve-image', imageId });
      if (slide >= 2) expect(reply, `slide ${slide}`).toMatchObject({ ok: true, result: { url: expect.stringMatching(new RegExp(`\\?slide=${slide}$`)) } });
      else expect(reply, `slide ${slide}`).toMatchObject({ ok: false, message: expect.stringContaining('That image is no longer on the page') });
    }
    await page.evaluate(() => document.getElementById('slideshow')?.remove());
    await control.close();
    await page.bringToFront();
  });

  it('a navigation in the tab starts the popup grid over', async () => {
    const popup = await openPopupFor(spotter, page);
    const pandaCard = '.card[data-url$="/photos/imagenet_n02510455_giant_panda.jpg"]';
    const before = await popup.waitForSelector(pandaCard, { timeout: 60_000 });
    // Reloaded in front: background tabs' timers and animation frames are throttled.
    await page.bringToFront();
    await page.reload();
    await page.waitForFunction('window.fixtureReady');
    await page.evaluate('window.fixtureReady');
    await popup.bringToFront();
    // The old page's cards go (their images are gone with it) and the new page's come.
    await popup.waitForFunction((card: Element) => !card.isConnected, { timeout: 30_000 }, before!);
    await popup.waitForSelector(`${pandaCard}[data-state="done"]`, { timeout: 60_000 });
    listedByPopup.push(...(await popup.$$eval('.card', (cards) => cards.map((card) => card.getAttribute('data-url') ?? ''))));
    await popup.close();
    await page.bringToFront();
  });

  it('a Spotter view opened earlier follows labels added and a training started elsewhere', async () => {
    const view = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    await view.click('#tab-labels');
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    const send = (message: unknown) => askFrom(control, message);
    await addTwoLabels(control);
    expect(await send({ type: 'train', options: { epochs: 300, patience: 300, batchSize: 1 } })).toMatchObject({ ok: true });
    await view.bringToFront();
    // The labels appear in the view that was open all along…
    await view.waitForSelector('.label-group[data-label="animal"]', { timeout: 10_000 });
    await view.waitForSelector('.label-group[data-label="food"]', { timeout: 10_000 });
    // …and its Train view follows the run started elsewhere to its end.
    await view.click('#tab-train');
    await view.waitForSelector('[data-testid="training-done"]', { timeout: 60_000 });
    // Cross-validated even with 2 examples a label (2 folds): both charts have a validation series.
    for (const chart of ['loss-chart', 'accuracy-chart']) {
      const legend = await view.$$eval(`[data-testid="${chart}"] .u-legend .u-series`, (rows) => rows.map((row) => row.querySelector('.u-label')?.textContent ?? ''));
      expect(legend, chart).toEqual(['epoch', 'train', 'validation']);
    }
    for (const label of ['animal', 'food']) expect(await send({ type: 'delete-label', label })).toMatchObject({ ok: true });
    expect(await send({ type: 'forget-model' })).toMatchObject({ ok: true });
    await control.close();
    await view.close();
    await page.bringToFront();
  });

  it('sees a transparent PNG on white, as pages show it, not on black (also when it is served as a JPEG)', async () => {
    const extensionPage = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    const views = await extensionPage.evaluate(async () => {
      // A red square in the middle of a transparent 200 x 200 PNG.
      const canvas = new OffscreenCanvas(200, 200);
      const context = canvas.getContext('2d')!;
      context.fillStyle = '#c00';
      context.fillRect(60, 60, 80, 80);
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      const url = await new Promise<string>((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(String(reader.result));
        reader.readAsDataURL(blob);
      });
      const api = (globalThis as unknown as { chrome: typeof chrome }).chrome;
      const seen = async (source: string) => {
        const reply = (await api.runtime.sendMessage({ type: 'classify-image', source: { url: source } })) as { result: { thumbnail: string } };
        const thumbnail = new Image();
        thumbnail.src = reply.result.thumbnail;
        await thumbnail.decode();
        const probe = document.createElement('canvas');
        probe.width = probe.height = thumbnail.width;
        const probeContext = probe.getContext('2d')!;
        probeContext.drawImage(thumbnail, 0, 0);
        return { corner: Array.from(probeContext.getImageData(3, 3, 1, 1).data), middle: Array.from(probeContext.getImageData(48, 48, 1, 1).data) };
      };
      // Servers mislabel files: the transparency is in the bytes, whatever the type says.
      return [await seen(url), await seen(url.replace(/^data:image\/png/, 'data:image/jpeg'))];
    });
    await extensionPage.close();
    await page.bringToFront();
    for (const view of views) {
      for (const channel of view.corner.slice(0, 3)) expect(channel).toBeGreaterThan(235);
      // The square itself stays red.
      expect(view.middle[0]).toBeGreaterThan(170);
      expect(view.middle[1]).toBeLessThan(60);
    }
  });

  it('never touches the page: same DOM before and after, and page scripts cannot see inside', async () => {
    const before = await page.evaluate(() => document.body.outerHTML);
    await classify({ id: 'plain-img', context: 'image' });
    const after = await page.evaluate(() => {
      // The overlay's host: the one element Spotter adds, a <div> after <body>.
      const hosts = [...document.documentElement.children].filter((el) => el.localName === 'div');
      return {
        body: document.body.outerHTML,
        hosts: hosts.length,
        popover: hosts[0]?.matches(':popover-open') ?? false,
        shadow: hosts[0]?.shadowRoot ?? null,
        text: document.documentElement.innerText.includes('giant panda'),
      };
    });
    expect(after.body).toBe(before);
    expect(after.hosts).toBe(1);
    // In the top layer, above full-screen elements and modal dialogs.
    expect(after.popover).toBe(true);
    expect(after.shadow).toBeNull();
    expect(after.text).toBe(false);
    await closeWithEscape();
  });

  it("an image in another site's frame is downloaded without the page's cookies, even when it is on the page's own site", async () => {
    // An ad-like frame from the other site (127.0.0.2) shows a picture from this page's site.
    await page.evaluate((src: string) => {
      const frame = Object.assign(document.createElement('iframe'), { id: 'cross-site-frame', src, width: 300, height: 230 });
      document.body.prepend(frame);
      return new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
    }, `${cdn.origin}/cross-site-frame.html`);
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    const frameId = await control.evaluate(async (tabId: number, frameUrl: string) => {
      const api = ((globalThis as unknown as { browser?: typeof chrome }).browser ?? chrome) as typeof chrome;
      for (;;) {
        // Where the content script runs (document_idle): it answers there, and the frame has an id.
        const results = await api.scripting.executeScript({ target: { tabId, allFrames: true }, func: () => location.href });
        const frame = results.find((result) => result.result === frameUrl);
        if (frame) return frame.frameId;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }, await spotter.tabIdOf(page), `${cdn.origin}/cross-site-frame.html`);
    await control.close();
    await page.bringToFront();
    const photo = `${site.origin}/photos/coral_grace_hopper.jpg`;
    classifiedUrls.add(photo);
    await spotter.chooseMenuItem(page, '#cross-site-frame', { srcUrl: photo, mediaType: 'image', frameId });
    const downloads = () => site.visits.filter((v) => v.path === '/photos/coral_grace_hopper.jpg' && v.dest !== 'image');
    await expect.poll(() => downloads().length, { timeout: 30_000 }).toBeGreaterThan(0);
    for (const visit of downloads()) expect(visit.cookie ?? '').not.toContain('site-session');
    await page.evaluate(() => document.getElementById('cross-site-frame')?.remove());
  });

  // A canvas or video that must be read from the screen, in a frame inside another site's page
  // (a map or a game embedded by a blog): its script cannot see where the frame sits. Here two
  // hops: page (127.0.0.1) > frame of 127.0.0.2, moved by padding > frame of 127.0.0.1, with a
  // border and padding of its own > a canvas no one may copy.
  it("reads a canvas from the screen inside frames of other sites, placed through the frames' own scripts", async () => {
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    const tabId = await spotter.tabIdOf(page);
    const frameId = await addNestedFrames(control, 'canvas');
    await page.bringToFront();
    await spotter.chooseMenuItem(page, '#outer-frame', { frameId });
    const frameOverlays = () =>
      control.evaluate(async (tab: number, frame: number) => {
        const extension = ((globalThis as unknown as { browser?: typeof chrome }).browser ?? chrome) as typeof chrome;
        return (await extension.tabs.sendMessage(tab, { type: 'describe-overlays' }, { frameId: frame })) as { state: string; labels: { label: string }[]; error: string | null }[];
      }, tabId, frameId);
    await expect.poll(async () => (await frameOverlays()).filter((o) => o.state !== 'loading').length, { timeout: 30_000 }).toBe(1);
    const [overlay] = await frameOverlays();
    expect(overlay!.error, JSON.stringify(overlay)).toBeNull();
    expect(overlay!.labels[0]?.label, JSON.stringify(overlay)).toBe('banana');
    await control.close();
    await page.evaluate(() => document.getElementById('outer-frame')?.remove());
  });

  // Frames of other sites are placed by the relay (frame-placement.ts), frames of the page's own
  // site by the content script walking up their frame elements (read-pixels.ts screenAreaOf); a
  // frame scaled by a transform or zoom scales the area (and its border and padding) on the way.
  it.each([
    ['two cross-site frames deep', () => cdn, ''],
    ['two same-site frames deep', () => site, ''],
    ['two cross-site frames deep, the outer one scaled (transform: scale(0.75, 0.6))', () => cdn, 'transform: scale(0.75, 0.6)'],
    ['two same-site frames deep, the outer one zoomed (zoom: 1.5)', () => site, 'zoom: 1.5'],
  ])('"Label as" on a canvas %s keeps that canvas to the pixel, no border or page around it', async (_where, outerSite, outerCss) => {
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    const frameId = await addNestedFrames(control, 'quadrants', outerSite(), outerCss);
    await page.bringToFront();
    await spotter.chooseMenuItem(page, '#outer-frame', { frameId, menuItemId: 'spotter-label:quadrants' });
    await expectQuadrantsKept(control);
    await control.close();
    await page.evaluate(() => document.getElementById('outer-frame')?.remove());
  });

  // Before it reads the screen, the background has Spotter's overlays hidden in every frame of the
  // tab, not only in the frame that asked: here the top page's result panel lies over the lower
  // half of a canvas in a frame of the page's site. It used to be in the picture.
  it('"Label as" on a canvas read from the screen leaves out the overlay that another frame shows over it', async () => {
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    await page.bringToFront();
    await page.evaluate(() => window.scrollTo(0, 0));
    // The frame's canvas shows at (508, 72)-(668, 232) of the viewport (quadrants-frame.html puts it 8 px
    // right and 12 px down). The photo is smaller than a panel: its panel goes 8 px right of it, from
    // (498, 172), over the canvas's lower corners and not over the frame's middle, where it is right-clicked.
    await page.evaluate(async (src: string, photo: string) => {
      const frame = Object.assign(document.createElement('iframe'), { id: 'covered-frame', src, width: 200, height: 200 });
      frame.style.cssText = 'position: fixed; left: 500px; top: 60px; border: 0; z-index: 1';
      const image = Object.assign(document.createElement('img'), { id: 'covering-photo', src: photo, alt: 'beside the frame' });
      image.style.cssText = 'position: fixed; left: 450px; top: 172px; width: 40px; height: 40px; z-index: 1';
      const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
      document.body.append(frame, image);
      await Promise.all([loaded, image.decode()]);
    }, `${site.origin}/quadrants-frame.html`, `${site.origin}/photos/coral_grace_hopper.jpg`);
    const frameId = await drawnFrame(control, '/quadrants-frame.html');
    expect((await classify({ id: 'covering-photo', context: 'image' })).state).toBe('done');
    // What the top page shows at the canvas's corners (3 % in): the frame, or an overlay's host (hits in its closed shadow root are retargeted to it).
    const atCorners = await page.evaluate(() => {
      const frame = document.getElementById('covered-frame') as HTMLIFrameElement;
      const box = frame.getBoundingClientRect();
      const canvas = frame.contentDocument!.querySelector('canvas')!.getBoundingClientRect();
      const at = (fx: number, fy: number) => {
        const hit = document.elementFromPoint(box.left + canvas.left + fx * canvas.width, box.top + canvas.top + fy * canvas.height);
        return hit === frame ? 'frame' : hit?.parentElement === document.documentElement && hit.tagName === 'DIV' ? 'overlay' : String(hit?.tagName);
      };
      return [at(0.03, 0.03), at(0.97, 0.03), at(0.03, 0.97), at(0.97, 0.97)];
    });
    expect(atCorners).toEqual(['frame', 'frame', 'overlay', 'overlay']);
    await spotter.chooseMenuItem(page, '#covered-frame', { frameId, menuItemId: 'spotter-label:quadrants' });
    await expectQuadrantsKept(control);
    // The panel was over the canvas all along (in Firefox the harness's Esc for its own menu goes to the frame right-clicked).
    expect(await spotter.overlays(page)).toHaveLength(1);
    await page.evaluate(() => ['covered-frame', 'covering-photo'].forEach((id) => document.getElementById(id)?.remove()));
    await expect.poll(() => spotter.overlays(page).then((o) => o.length)).toBe(0);
    await control.close();
  });

  // A box cannot say which pixels a rotated frame shows: the read says so rather than take the wrong part of the screen.
  it('a canvas in a rotated frame of another site is said to be unreadable from the screen, not read from the wrong pixels', async () => {
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    const tabId = await spotter.tabIdOf(page);
    const frameId = await addNestedFrames(control, 'canvas', cdn, 'transform: rotate(90deg)');
    await page.bringToFront();
    await spotter.chooseMenuItem(page, '#outer-frame', { frameId });
    const frameOverlays = () =>
      control.evaluate(async (tab: number, frame: number) => {
        const extension = ((globalThis as unknown as { browser?: typeof chrome }).browser ?? chrome) as typeof chrome;
        return (await extension.tabs.sendMessage(tab, { type: 'describe-overlays' }, { frameId: frame })) as { state: string; error: string | null }[];
      }, tabId, frameId);
    await expect.poll(async () => (await frameOverlays()).filter((o) => o.state !== 'loading').length, { timeout: 30_000 }).toBe(1);
    const [overlay] = await frameOverlays();
    expect(overlay!.error, JSON.stringify(overlay)).toMatch(/in a frame that the page rotates, skews or mirrors/);
    await control.close();
    await page.evaluate(() => document.getElementById('outer-frame')?.remove());
  });

  // The relay moves only areas whose token the background armed for a read the user asked for:
  // otherwise a page could post one from a frame of its own and see whether Spotter passes it on.
  it('a page cannot use the frames relay to tell that Spotter is installed', async () => {
    await page.evaluate(() => {
      (window as unknown as { relayed: unknown[] }).relayed = [];
      addEventListener('message', (event) => {
        if (typeof event.data === 'object' && event.data && 'frameArea' in event.data) (window as unknown as { relayed: unknown[] }).relayed.push(event.data);
      });
    });
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    await addNestedFrames(control, 'canvas');
    await control.close();
    await page.bringToFront();
    let inner = page.frames().find((frame) => frame.url().endsWith('/canvas-frame.html'));
    for (let tries = 0; !inner && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      inner = page.frames().find((frame) => frame.url().endsWith('/canvas-frame.html'));
    }
    // The inner page itself (the page's site, two frames down) posts what Spotter's frames would (well formed: only the token is not armed).
    await inner!.waitForFunction(() => document.body?.dataset.drawn === '1');
    await inner!.evaluate(() => parent.postMessage({ frameArea: 'abcdefghijklmnopqrstuvwx', area: { left: 0, top: 0, width: 10, height: 10 }, viewport: { width: innerWidth, height: innerHeight } }, '*'));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await page.evaluate(() => (window as unknown as { relayed: unknown[] }).relayed)).toEqual([]);
    await page.evaluate(() => document.getElementById('outer-frame')?.remove());
  });

  it("downloads carry the user's cookies only to the site of the page showing the image", async () => {
    // Spotter's own downloads are fetch()es (Sec-Fetch-Dest "empty"); the page's <img> loads are "image".
    const downloads = (server: FixtureServer, photo: string) => server.visits.filter((v) => v.path === `/photos/${photo}` && v.dest !== 'image');
    const samesite = downloads(site, 'imagenet_n02510455_giant_panda.jpg');
    const thirdParty = downloads(cdn, 'coral_dragonfly.jpg');
    expect(samesite.length).toBeGreaterThan(0);
    expect(thirdParty.length).toBeGreaterThan(0);
    for (const visit of samesite) expect(visit.cookie).toContain('site-session=1');
    for (const visit of thirdParty) expect(visit.cookie ?? '').not.toContain('cdn-session');
    // The other site's cookie does exist: a visit of its own carries it.
    const again = await spotter.browser.newPage();
    await again.goto(`${cdn.origin}/visit.html`);
    await again.close();
    await page.bringToFront();
    expect(cdn.visits.filter((v) => v.path === '/visit.html').at(-1)?.cookie).toContain('cdn-session=1');
  });

  it('the servers saw only the page and the images', () => {
    for (const request of cdn.requests) expect(request).toMatch(/^\/(visit\.html|cross-site-frame\.html|outer-frame\.html|favicon\.ico|photos\/[\w.-]+\.jpg)$/);
    for (const request of site.requests) expect(request).toMatch(/^\/(page\.html|frame\.html|outer-frame\.html|canvas-frame\.html|quadrants-frame\.html|favicon\.ico|not-an-image\.jpg|photos\/[\w.-]+\.jpg)$/);
  });

  // Firefox has neither a service worker nor an offscreen document: these are Chrome's alone.
  describe.skipIf(browserName !== 'chromium')("Chrome's service worker and offscreen document", () => {
    it('survives a service-worker restart between two clicks', async () => {
      const chrome = spotter.chrome!;
      expect((await classify({ id: 'plain-img', context: 'image' })).labels[0]!.label).toBe('giant panda');
      await closeWithEscape();
      await chrome.stopWorker();
      await expect.poll(() => chrome.workerRunning()).toBe(false);
      // Opening the popup wakes the worker, as a real menu click would.
      const popup = await chrome.browser.newPage();
      await popup.goto(chrome.extensionUrl('src/popup/popup.html?tabId=none'));
      expect(await chrome.inWorker(() => 'awake', null)).toBe('awake');
      await popup.waitForSelector('[data-engine-state="ready"]', { timeout: 60_000 });
      await popup.close();
      await page.bringToFront();
      expect((await classify({ id: 'picture-img', context: 'image' })).labels[0]!.label).toBe('zebra');
      await closeWithEscape();
    });

    it('recreates the offscreen document if it was closed', async () => {
      const chrome = spotter.chrome!;
      await chrome.inWorker(() => globalThis.chrome.offscreen.closeDocument(), null);
      await expect.poll(() => chrome.browser.targets().some((t) => t.url().endsWith('offscreen.html'))).toBe(false);
      expect((await classify({ id: 'srcset-img', context: 'image' })).labels[0]!.label).toBe('pizza');
      await closeWithEscape();
    });

    it('a run lost to an engine restart is reported as interrupted, not left spinning', async () => {
      const chrome = spotter.chrome!;
      const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
      const send = (message: unknown) => askFrom(control, message);
      await addTwoLabels(control);
      // A long run (no early stopping, batches of one), so that it is still going when the engine goes.
      expect(await send({ type: 'train', options: { epochs: 500, patience: 500, batchSize: 1 } })).toMatchObject({ ok: true });
      // The popup opened while the run goes on picks it up.
      const view = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
      await view.click('#tab-train');
      await view.waitForSelector('[data-testid="training-progress"]', { timeout: 10_000 });
      await chrome.inWorker(() => globalThis.chrome.offscreen.closeDocument(), null);
      await view.waitForFunction(() => document.body.textContent?.includes("The training was interrupted (Spotter's engine restarted). Press Retrain to start again."), { timeout: 30_000 });
      expect(await view.$('[data-testid="training-done"]')).toBeNull();
      for (const label of ['animal', 'food']) expect(await send({ type: 'delete-label', label })).toMatchObject({ ok: true });
      await view.close();
      await control.close();
      await page.bringToFront();
    });

    // Chrome's extension ids are the same on every machine: a file a page may load tells it that
    // Spotter is installed. The content script is one file the browser injects, so none needs to be.
    it('a web page can load none of Spotter\'s files, so it cannot tell that Spotter is installed', async () => {
      const files = (readdirSync(CHROME_DIST, { recursive: true }) as string[]).filter((file) => /\.(js|css|html|png|json|bin|wasm)$/.test(file));
      expect(files).toContain('src/content/index.js');
      const loaded = await page.evaluate(async (urls: string[]) => {
        const found: string[] = [];
        for (const url of urls) await fetch(url).then(() => found.push(url), () => undefined);
        return found;
      }, files.map((file) => spotter.chrome!.extensionUrl(file)));
      expect(loaded).toEqual([]);
      // The probe itself works: the page can load what it may (its own site).
      expect(await page.evaluate(async (url: string) => (await fetch(url)).ok, page.url())).toBe(true);
    });

    it('chrome://extensions shows Spotter with no warning and no error', async () => {
      const extensions = await spotter.browser.newPage();
      await extensions.goto('chrome://extensions');
      // The same API the chrome://extensions page itself uses to list warnings and errors.
      const { spotterInfo, developerMode } = await extensions.evaluate(async () => {
        const api = (
          globalThis as unknown as {
            chrome: {
              developerPrivate: {
                getExtensionsInfo(): Promise<{ name: string; installWarnings: unknown[]; manifestErrors: unknown[]; runtimeErrors: { severity: string; message: string }[] }[]>;
                getProfileConfiguration(): Promise<{ inDeveloperMode: boolean }>;
              };
            };
          }
        ).chrome.developerPrivate;
        return {
          spotterInfo: (await api.getExtensionsInfo()).find((extension) => extension.name === 'Spotter'),
          developerMode: (await api.getProfileConfiguration()).inDeveloperMode,
        };
      });
      await extensions.close();
      // Errors are collected only in developer mode: without it, the empty lists below would prove nothing.
      expect(developerMode).toBe(true);
      expect(spotterInfo).toMatchObject({ installWarnings: [], manifestErrors: [] });
      // On a machine without a GPU, Chromium itself warns when the backend probe opens a WebGL context
      // (it falls back to SwiftShader, even with failIfMajorPerformanceCaveat): the browser's notice, not an error of Spotter's.
      const softwareWebglNotice = (error: { severity: string; message: string }) => error.severity === 'WARN' && /Automatic fallback to software WebGL has been deprecated/.test(error.message);
      expect(spotterInfo!.runtimeErrors.filter((error) => !softwareWebglNotice(error))).toEqual([]);
    });

    it('made no network request except the image fetches (every target, DevTools network log)', () => {
      const chrome = spotter.chrome!;
      const extensionOrigin = chrome.extensionUrl('');
      // Every request that could leave the browser (http/https), from any target.
      const external = chrome.requests.filter(({ url }) => /^(https?|wss?|ftp):/i.test(url));
      for (const { url } of external) expect([site.origin, cdn.origin]).toContain(new URL(url).origin);
      const fromExtension = external.filter(({ target }) => target.startsWith(extensionOrigin));
      expect(fromExtension.length).toBeGreaterThan(0);
      // Only what was right-clicked, or what the popup listed (it classifies every image it lists).
      for (const { url } of fromExtension) expect([...classifiedUrls, ...listedByPopup]).toContain(url);
    });
  });
});
