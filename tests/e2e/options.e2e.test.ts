/**
 * Options → Model, as a user changes it: the options page shows the backbone in use, a choice
 * (mouse or keyboard) switches the engine, the popup's status line and the next right-click use
 * the new one, and the choice outlives closing the page.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyImage, E2E_BROWSERS, launchSpotter, openPageWithImages, openPopupFor, type SpotterSession } from './support/browsers';
import { startServer, type FixtureServer } from './support/fixture-server';

const PAGE = '<!doctype html><title>Options</title><img id="panda" src="/photos/imagenet_n02510455_giant_panda.jpg" width="300">';

describe.each(E2E_BROWSERS)('Spotter in %s: Options → Model', (browserName) => {
  let site: FixtureServer;
  let spotter: SpotterSession;
  let page: Page;

  const statusText = (options: Page) => options.$eval('[data-testid="model-status"]', (el) => el.textContent ?? '');
  const inUse = async (options: Page, title: string) => {
    await options.waitForFunction((t: string) => document.querySelector('[data-testid="model-status"]')?.textContent?.startsWith(`In use: ${t} on `), { timeout: 60_000 }, title);
    return options.$eval('input[name="model"]:checked', (el) => (el as HTMLInputElement).value);
  };
  const classifyPanda = () => classifyImage(spotter, page, '#panda');

  beforeAll(async () => {
    site = await startServer((url) => (url.pathname === '/page.html' ? { status: 200, type: 'text/html', body: PAGE } : undefined));
    spotter = await launchSpotter(browserName);
    page = await openPageWithImages(spotter, `${site.origin}/page.html`);
  });

  afterAll(async () => {
    await spotter?.close();
    await site?.close();
  });

  it('starts on MobileNet-EdgeTPU, switches to MobileNet v2 with a click, and the next right-click and the popup use it', async () => {
    const options = await spotter.openExtensionPage('src/options/options.html');
    expect(await inUse(options, 'MobileNet-EdgeTPU (more accurate)')).toBe('mobilenet-edgetpu');
    await options.click('input[value="mobilenet-v2"]');
    expect(await inUse(options, 'MobileNet v2 (about twice as fast)')).toBe('mobilenet-v2');
    expect(await statusText(options)).toMatch(/^In use: MobileNet v2 \(about twice as fast\) on (wasm|webgl|cpu), loaded in /);

    const overlay = await classifyPanda();
    expect(overlay.state, overlay.text).toBe('done');
    expect(overlay.labels[0]!.label).toBe('giant panda');
    const popup = await openPopupFor(spotter, page);
    await popup.waitForFunction(() => document.querySelector('[data-testid="model"]')?.textContent === 'MobileNet v2', { timeout: 60_000 });
    await popup.close();
    await options.close();
  });

  it('keeps the choice when the page is opened again, and switches back with the keyboard', async () => {
    const options = await spotter.openExtensionPage('src/options/options.html');
    expect(await inUse(options, 'MobileNet v2 (about twice as fast)')).toBe('mobilenet-v2');
    await options.focus('input[value="mobilenet-v2"]');
    // A radio group: the arrow keys move the choice.
    await options.keyboard.press('ArrowUp');
    expect(await inUse(options, 'MobileNet-EdgeTPU (more accurate)')).toBe('mobilenet-edgetpu');
    const overlay = await classifyPanda();
    expect(overlay.labels[0]!.label).toBe('giant panda');
    await options.close();
  });
});
