/**
 * Firefox unloads an idle event page (30 s by default; 3 s here). The next request must bring the
 * engine back transparently: the model reloads on the remembered backend and the head returns
 * from IndexedDB. Firefox only: Chrome's equivalent (a service-worker restart) is in classify.e2e.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askFrom, E2E_BROWSERS, launchSpotter, type SpotterSession } from './support/browsers';
import { startServer, type FixtureServer } from './support/fixture-server';
import { waitForSettledOverlay } from './support/overlay';
import { PHOTOS_DIR } from '../support/photos';

const IDLE_MS = 3000;
const PAGE = `<!doctype html><img id="panda" src="/photos/imagenet_n02510455_giant_panda.jpg" width="300">
<img id="zebra" src="/photos/imagenet_n02391049_zebra.jpg" width="300">`;
const EXAMPLES = [
  ['imagenet_n02510455_giant_panda.jpg', 'animal'],
  ['imagenet_n02391049_zebra.jpg', 'animal'],
  ['imagenet_n07873807_pizza.jpg', 'food'],
  ['coral_hot_dog.jpg', 'food'],
] as const;
const TRAIN_EPOCHS = 500;

describe.runIf(E2E_BROWSERS.includes('firefox'))('Spotter in firefox: the event page is unloaded between two classifications', () => {
  let site: FixtureServer;
  let spotter: SpotterSession;
  let page: Page;

  const classify = async (id: string) => {
    const srcUrl = await page.$eval(`#${id}`, (img) => (img as HTMLImageElement).currentSrc);
    await spotter.chooseMenuItem(page, `#${id}`, { srcUrl, mediaType: 'image' });
    const overlay = await waitForSettledOverlay(page, 60_000, spotter.overlays);
    await page.keyboard.press('Escape');
    return overlay;
  };

  beforeAll(async () => {
    site = await startServer((url) => {
      if (url.pathname === '/page.html') return { status: 200, type: 'text/html', body: PAGE };
      // A slow server: the panda, after three idle timeouts (well within Spotter's 30 s download limit).
      if (url.pathname === '/slow/panda.jpg') return { status: 200, type: 'image/jpeg', body: readFileSync(path.join(PHOTOS_DIR, 'imagenet_n02510455_giant_panda.jpg')), delayMs: IDLE_MS * 3 };
      return undefined;
    });
    spotter = await launchSpotter('firefox', { eventPageIdleMs: IDLE_MS });
    page = await spotter.browser.newPage();
    await page.goto(`${site.origin}/page.html`);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete && img.naturalWidth > 0));
  });

  afterAll(async () => {
    await spotter?.close();
    await site?.close();
  });

  it('classifies, lets the event page go, and classifies again with the engine brought back', async () => {
    expect((await classify('panda')).labels[0]!.label).toBe('giant panda');
    // Mark this instance of the event page, then leave it idle.
    expect(await spotter.eventPageMarker!('first instance')).toBe('first instance');
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 3));
    // Asking for the page again wakes a new instance: the marker is gone, so it really was unloaded.
    expect(await spotter.eventPageMarker!()).toBeNull();
    const overlay = await classify('zebra');
    expect(overlay.state, overlay.text).toBe('done');
    expect(overlay.labels[0]!.label).toBe('zebra');
  });

  it('stays alive while an image downloads slowly, with no Spotter page open, and answers with its labels', async () => {
    // Added once the page has loaded; right-clicked while the page itself is still waiting for it.
    await page.evaluate(() => {
      const img = document.createElement('img');
      Object.assign(img, { id: 'slow', width: 300, height: 225, src: '/slow/panda.jpg' });
      document.body.prepend(img);
    });
    // Unloaded mid-download, the event page never answered: the overlay said "Spotter gave no valid answer".
    const overlay = await classify('slow');
    expect(overlay.state, overlay.text).toBe('done');
    expect(overlay.labels[0]!.label).toBe('giant panda');
    await page.evaluate(() => document.getElementById('slow')!.remove());
  });

  it('keeps itself alive until a training run finishes, with no Spotter page asking', async () => {
    const control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    const send = (message: unknown) => askFrom(control, message);
    for (const [file, label] of EXAMPLES) {
      const added = await send({ type: 'add-example', source: { url: `${site.origin}/photos/${file}` }, label, pageUrl: site.origin });
      expect(added.ok, added.error?.message).toBe(true);
    }
    // Long enough to outlast the 3 s idle timeout several times over: no early stopping (patience =
    // epochs) and batches of one, so every epoch takes the most steps an epoch may (16).
    const started = await send({ type: 'train', options: { epochs: TRAIN_EPOCHS, patience: TRAIN_EPOCHS, batchSize: 1 } });
    expect(started).toMatchObject({ ok: true, result: { phase: 'running' } });
    await control.close();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 5));
    const watcher = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    const savedHead = async () => (await askFrom<{ head: { report: { epochs: unknown[]; durationMs: number } } | null }>(watcher, { type: 'list-dataset' })).result.head?.report ?? null;
    // The head is saved when the run ends. Had the page been unloaded mid-run, there would be none.
    await expect.poll(async () => (await savedHead())?.epochs.length, { timeout: 60_000, interval: 1000 }).toBe(TRAIN_EPOCHS);
    // That proves something only if the run outlasted the idle timeout (after it, the page may go).
    expect((await savedHead())!.durationMs).toBeGreaterThan(IDLE_MS * 2);
    await watcher.close();
  });
});
