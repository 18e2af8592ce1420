/**
 * Examples survive a model change, as a user makes it: each example keeps its picture, so when
 * Options → Model switches the backbone the engine embeds every example again (the Train view
 * shows "Re-reading your examples for the new model: n / N"), the user's model is retrained for
 * the new backbone, and the user's labels keep being predicted. A re-reading cut short (the
 * engine's document closed in Chromium, the browser restarted in Firefox) resumes. "Export
 * everything" carries the pictures and the model id; a file from the other backbone is embedded
 * again on import; an older file (no pictures) still imports, and "Your labels" says that its
 * examples cannot move.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/paths';
import { serializeDataset } from '../../src/storage/dataset-file';
import { askFrom, classifyImage, E2E_BROWSERS, launchSpotter, openPageWithImages, openPopupFor, type SpotterSession } from './support/browsers';
import { startServer, type FixtureServer } from './support/fixture-server';
import { flowerPhotos } from './support/flowers';

const RESULTS = path.join(ROOT, 'test-results');
/** Five examples a label of three labels: enough that re-reading them takes a few of the Train view's polls. */
const TAUGHT = (() => {
  const teach = flowerPhotos().filter((p) => p.role === 'teach');
  return ['daisy', 'sunflowers', 'roses'].flatMap((label) => teach.filter((p) => p.label === label).slice(0, 5));
})();
const HELD_OUT_SUNFLOWER = flowerPhotos().find((p) => p.label === 'sunflowers' && p.role === 'test')!;

interface DatasetAnswer {
  labels: { label: string; count: number }[];
  head: { model: string } | null;
  model: string;
  otherModels: { model: string; count: number; withPicture: number }[];
}

describe.each(E2E_BROWSERS)('Spotter in %s: examples survive a model change', (browserName) => {
  let site: FixtureServer;
  let spotter: SpotterSession;
  let control: Page;
  let page: Page;

  const ask = <T,>(message: unknown) => askFrom<T>(control, message);
  const dataset = async () => (await ask<DatasetAnswer>({ type: 'list-dataset' })).result;
  const setModel = async (model: string) => {
    const options = await spotter.openExtensionPage('src/options/options.html');
    await options.waitForFunction(() => document.querySelector('[data-testid="model-status"]')?.textContent?.startsWith('In use'), { timeout: 60_000 });
    await options.click(`input[value="${model}"]`);
    await options.waitForFunction((id: string) => (document.querySelector('input[name="model"]:checked') as HTMLInputElement | null)?.value === id && document.querySelector('[data-testid="model-status"]')?.textContent?.startsWith('In use'), { timeout: 60_000 }, model);
    await options.close();
  };
  const trainingDone = async () => {
    await expect
      .poll(async () => (await ask<{ phase: string; rereading: unknown }>({ type: 'training-status' })).result, { timeout: 120_000, interval: 500 })
      .toMatchObject({ phase: 'done', rereading: null });
  };
  const classifySunflower = () => classifyImage(spotter, page, '#sunflower');

  beforeAll(async () => {
    await mkdir(RESULTS, { recursive: true });
    site = await startServer((url) => (url.pathname === '/page.html' ? { status: 200, type: 'text/html', body: `<!doctype html><title>Sunflower</title><img id="sunflower" src="${HELD_OUT_SUNFLOWER.path}" width="300">` } : undefined));
    spotter = await launchSpotter(browserName);
    control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    page = await openPageWithImages(spotter, `${site.origin}/page.html`);
  });

  afterAll(async () => {
    await spotter?.close();
    await site?.close();
  });

  it('re-reads every example for MobileNet v2 with progress in the Train view, retrains for it, and the user labels still come', async () => {
    for (const photo of TAUGHT) {
      const added = await ask({ type: 'add-example', source: { url: `${site.origin}${photo.path}` }, label: photo.label, pageUrl: site.origin });
      expect(added.ok, added.error?.message).toBe(true);
    }
    expect((await ask({ type: 'train', options: {} })).ok).toBe(true);
    await trainingDone();
    expect(await dataset()).toMatchObject({ model: 'mobilenet-edgetpu', head: { model: 'mobilenet-edgetpu' }, otherModels: [] });

    const panel = await openPopupFor(spotter, page);
    await panel.click('#tab-train');
    await setModel('mobilenet-v2');
    await panel.bringToFront();
    // The progress as the Train view shows it, then the retrained model.
    await panel.waitForFunction((total: number) => new RegExp(`^Re-reading your examples for the new model: \\d+ / ${total}`).test(document.querySelector('[data-testid="rereading-progress"]')?.textContent ?? ''), { timeout: 60_000, polling: 50 }, TAUGHT.length);
    await panel.waitForSelector('[data-testid="training-done"]', { timeout: 120_000 });
    await trainingDone();
    expect(await dataset()).toMatchObject({ model: 'mobilenet-v2', head: { model: 'mobilenet-v2' }, otherModels: [] });
    expect((await dataset()).labels.map((l) => l.count)).toEqual([5, 5, 5]);
    await panel.close();

    const overlay = await classifySunflower();
    expect(overlay.state, overlay.text).toBe('done');
    expect(overlay.labels[0]).toMatchObject({ kind: 'user', label: 'sunflowers' });
  });

  it('resumes a re-reading cut short, with nothing lost', async () => {
    await setModel('mobilenet-edgetpu');
    // Cut the engine off while it re-reads (some examples may be done: they stay done).
    await expect.poll(async () => (await dataset()).otherModels[0]?.withPicture ?? 0, { timeout: 30_000, interval: 50 }).toBeGreaterThan(0);
    if (browserName === 'chromium') {
      await spotter.chrome!.inWorker(() => chrome.offscreen.closeDocument(), null);
    } else {
      spotter = await spotter.restart();
      control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
      page = await openPageWithImages(spotter, `${site.origin}/page.html`);
    }
    // Opening Spotter's popup wakes the engine, which picks the re-reading up where it stopped.
    const panel = await openPopupFor(spotter, page);
    await expect.poll(async () => (await dataset()).otherModels, { timeout: 120_000, interval: 500 }).toEqual([]);
    await trainingDone();
    expect(await dataset()).toMatchObject({ model: 'mobilenet-edgetpu', head: { model: 'mobilenet-edgetpu' } });
    expect((await dataset()).labels.map((l) => l.count)).toEqual([5, 5, 5]);
    await panel.close();
    const overlay = await classifySunflower();
    expect(overlay.labels[0]).toMatchObject({ kind: 'user', label: 'sunflowers' });
  });

  it('exports pictures and the model id; a file of the other backbone is re-read on import; an older file imports and says what cannot move', async () => {
    const panel = await openPopupFor(spotter, page);
    await panel.click('#tab-labels');
    const exported = await panel.evaluate(async () => {
      const saved: Promise<string>[] = [];
      HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
        saved.push(fetch(this.href).then((response) => response.text()));
      };
      [...document.querySelectorAll<HTMLButtonElement>('.transfer button')].find((button) => button.textContent?.trim() === 'Export everything')!.click();
      for (let waited = 0; saved.length === 0 && waited < 30_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      return (await Promise.all(saved))[0]!;
    });
    const file = JSON.parse(exported) as { examples: { model?: string; picture?: string }[]; head: { model?: string } | null };
    expect(file.examples).toHaveLength(TAUGHT.length);
    expect(file.examples.every((e) => e.model === 'mobilenet-edgetpu' && /^data:image\/jpeg;base64,/.test(e.picture ?? ''))).toBe(true);
    expect(file.head?.model).toBe('mobilenet-edgetpu');
    const exportedFile = path.join(RESULTS, `${browserName}-model-change-dataset.json`);
    await writeFile(exportedFile, exported);

    const importFile = async (name: string, expected: RegExp) => {
      await (await panel.$('.transfer input[type="file"]'))!.uploadFile(name);
      await (await panel.waitForSelector('.transfer .confirm-yes'))!.click();
      await panel.waitForFunction((pattern: string) => new RegExp(pattern).test(document.querySelector('[data-testid="labels-message"]')?.textContent ?? ''), { timeout: 30_000 }, expected.source);
    };

    // The EdgeTPU file, imported while MobileNet v2 runs: every example is read again, and the model retrained for v2.
    await setModel('mobilenet-v2');
    await trainingDone();
    await panel.bringToFront();
    await importFile(exportedFile, /^Imported 15 examples in 3 labels and the trained model/);
    await expect.poll(async () => (await dataset()).otherModels, { timeout: 120_000, interval: 500 }).toEqual([]);
    await trainingDone();
    expect(await dataset()).toMatchObject({ model: 'mobilenet-v2', head: { model: 'mobilenet-v2' } });

    // A file from before Spotter kept pictures: it imports, and its examples stay with MobileNet v2, which made them.
    const old = ['ants', 'bees'].flatMap((label, index) =>
      [0, 1].map((i) => ({ id: index * 2 + i + 1, label, embedding: Float32Array.from({ length: 1280 }, (_, j) => (j % 2 === index ? 1 : 0) + ((i + j) % 3) * 0.01), thumbnail: 'data:image/png;base64,iVBORw0KGgo=', imageUrl: `https://example.com/${label}/${i}.jpg`, pageUrl: 'https://example.com/', createdAt: i })),
    );
    const oldFile = path.join(RESULTS, `${browserName}-old-dataset.json`);
    await writeFile(oldFile, serializeDataset(old, undefined));
    await setModel('mobilenet-edgetpu');
    await panel.bringToFront();
    await importFile(oldFile, /^Imported 4 examples in 2 labels\.$/);
    expect((await dataset()).otherModels).toEqual([{ model: 'mobilenet-v2', count: 4, withPicture: 0 }]);
    await panel.waitForFunction(() => /^4 examples made with MobileNet v2 \(about twice as fast\) cannot move to MobileNet-EdgeTPU \(more accurate\): they were saved before Spotter kept the pictures/.test(document.querySelector('[data-testid="other-model"]')?.textContent ?? ''), { timeout: 30_000 });
    await panel.screenshot({ path: path.join(RESULTS, `${browserName}-labels-other-model.png`), fullPage: true });
    // With the model that made them, they train.
    await setModel('mobilenet-v2');
    expect((await dataset()).otherModels).toEqual([]);
    expect((await ask({ type: 'train', options: {} })).ok).toBe(true);
    await trainingDone();
    await panel.close();
  });
});
