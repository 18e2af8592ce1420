/**
 * `npm run bench`: the numbers the issues ask for, measured on this machine (a benchmark,
 * never a test). Prints a report and writes it to test-results/bench.json.
 *   1. Fit mode: squash vs centre-crop accuracy on the shared photos (Node, real model).
 *   2. Chromium: model load (incl. backend probe), first click→overlay, warm click→overlay,
 *      and the raw model.classify time in the same offscreen document.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { Page, WebWorker } from 'puppeteer-core';
import path from 'node:path';
import { DISTORTED_COPIES } from '../src/engine/distort';
import { copiesPerExample, trainHead, type TrainingExample } from '../src/engine/head';
import { FIT_MODES } from '../src/engine/preprocess';
import { embedFolder } from '../tests/support/embeddings';
import { RETRAIN_DIR } from '../tests/support/photos';
import { flowerPage, flowerPhotos } from '../tests/e2e/support/flowers';
import { launchChrome, rightClickAndChoose } from '../tests/e2e/support/chrome';
import { startServer } from '../tests/e2e/support/fixture-server';
import { readOverlays } from '../tests/e2e/support/overlay';
import { nodeEngine } from '../tests/support/engine';
import { decodeJpeg, labelledPhotos } from '../tests/support/photos';
import { demoPage } from './demo-page';
import { ROOT } from './paths';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const report: Record<string, unknown> = { date: new Date().toISOString() };

async function fitModes(): Promise<void> {
  console.log('\n## Fit mode (Node, WASM, 15 shared photos)');
  const rows = [];
  for (const fitMode of FIT_MODES) {
    const engine = nodeEngine({ fitMode });
    await engine.ready();
    let top1 = 0;
    let meanTrueProbability = 0;
    for (const photo of labelledPhotos()) {
      const pixels = decodeJpeg(photo.path);
      const { imagenet } = await engine.classify(pixels, 1000);
      pixels.dispose();
      const expected = photo.expected.toLowerCase();
      if (imagenet[0]!.fullName.toLowerCase().includes(expected)) top1++;
      meanTrueProbability += imagenet.filter((c) => c.fullName.toLowerCase().includes(expected)).reduce((sum, c) => sum + c.probability, 0);
    }
    const row = { fitMode, top1: `${top1}/15`, meanTrueProbability: Number((meanTrueProbability / 15).toFixed(4)) };
    rows.push(row);
    console.log(`${fitMode.padEnd(12)} top-1 ${row.top1}   mean probability of the right class ${row.meanTrueProbability}`);
  }
  report.fitModes = rows;
}

async function waitDone(page: Page): Promise<void> {
  for (;;) {
    const overlays = await readOverlays(page);
    if (overlays.some((o) => o.state === 'done' || o.state === 'error')) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function chromium(): Promise<void> {
  console.log('\n## Chromium (headless, offscreen document)');
  const server = await startServer((url) => (url.pathname === '/' ? { status: 200, type: 'text/html', body: demoPage() } : undefined));
  const session = await launchChrome();
  try {
    const page = await session.browser.newPage();
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete));
    // The demo page's photo figures come after its CSS-background and canvas figures.
    const photoCount = await page.$$eval('figure img', (imgs) => imgs.length);
    const click = async (i: number) => {
      const selector = `figure:nth-of-type(${i + 3}) img`;
      const src = await page.$eval(selector, (img) => (img as HTMLImageElement).currentSrc);
      const start = performance.now();
      await rightClickAndChoose(session, page, selector, { srcUrl: src, mediaType: 'image' });
      await waitDone(page);
      const elapsed = performance.now() - start;
      await page.keyboard.press('Escape');
      return elapsed;
    };
    // First click in a fresh profile: creates the offscreen document, probes backends, loads the model.
    const firstClickMs = await click(0);
    // The engine runs in the offscreen document's worker (engine/engine-worker.ts).
    const offscreen = await (await session.offscreenTarget()).asPage();
    const engine = offscreen.workers().find((w) => w.url().includes('engine-worker')) ?? (await new Promise<WebWorker>((resolve) => offscreen.on('workercreated', (w) => w.url().includes('engine-worker') && resolve(w))));
    const status = (await engine.evaluate('spotterHost.engine().then((engine) => engine.status)')) as { backend: string; loadMs: number; probe: { backend: string; ms: number | null }[] };
    const warm: number[] = [];
    for (let round = 0; round < 2; round++) for (let i = 0; i < photoCount; i++) warm.push(await click(i));
    const rawClassifyMs = (await engine.evaluate('spotterHost.engine().then((engine) => engine.timeRawClassify(20))')) as number;
    const result = {
      backend: status.backend,
      probe: status.probe,
      modelLoadMs: status.loadMs,
      firstClickToOverlayMs: firstClickMs,
      warmClickToOverlayMedianMs: median(warm),
      warmClicks: warm.length,
      rawModelClassifyMedianMs: rawClassifyMs,
    };
    report.chromium = result;
    console.log(`backend chosen            ${result.backend}   (probe: ${status.probe?.map((p) => `${p.backend} ${p.ms === null ? 'n/a' : ms(p.ms)}`).join(', ') ?? 'remembered'})`);
    console.log(`model load (incl. probe)  ${ms(result.modelLoadMs)}`);
    console.log(`first click → overlay     ${ms(result.firstClickToOverlayMs)}   (fresh profile: offscreen document + probe + model load)`);
    console.log(`warm click → overlay      ${ms(result.warmClickToOverlayMedianMs)}   (median of ${warm.length}, incl. menu dispatch, fetch, decode, overlay; polled via DevTools)`);
    console.log(`raw model.classify        ${ms(result.rawModelClassifyMedianMs)}   (median of 20, same engine worker)`);
  } finally {
    await session.close();
    await server.close();
  }
}

/** Retraining cost in Node on WASM (the backend the browsers chose here), on real flower embeddings jittered up to size. */
async function retraining(): Promise<void> {
  console.log('\n## Retraining (Node, WASM, real flower embeddings + small noise to reach the size)');
  const engine = nodeEngine();
  await engine.ready();
  const start = performance.now();
  const flowers = await embedFolder(engine, path.join(RETRAIN_DIR, 'flower_photos'));
  const embedMs = performance.now() - start;
  const count = [...flowers.values()].reduce((n, list) => n + list.length, 0);
  console.log(`labelling cost            ${ms(embedMs / count)} per photo   (${count} photos decoded + embedded + ${DISTORTED_COPIES} distorted copies each, in ${ms(embedMs)}; decode is jpeg-js)`);
  const rows = [];
  for (const perLabel of [12, 100, 500]) {
    let seed = 1;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.1;
    const examples: TrainingExample[] = [...flowers].flatMap(([label, photos]) =>
      Array.from({ length: perLabel }, (_, i) => {
        const photo = photos[i % photos.length]!;
        // The first 12 per label are the real photos, unchanged.
        const jitter = (vector: Float32Array) => (i < photos.length ? vector : vector.map((x) => x + noise()));
        return { label, embedding: jitter(photo.embedding), distortions: photo.distortions?.map(jitter) };
      }),
    );
    const t0 = performance.now();
    const { head, report } = await trainHead(examples);
    const trainMs = performance.now() - t0;
    head.dispose();
    // The kept head is the refit on every example; the validated run before it trains on ~85 % of them.
    const copies = Math.min(DISTORTED_COPIES, copiesPerExample(examples.length));
    rows.push({ examples: examples.length, labels: flowers.size, trainMs, epochs: report.epochs.length, copiesPerExample: copies });
    console.log(`retrain ${String(examples.length).padStart(4)} examples × ${flowers.size} labels   ${ms(trainMs)}   (${report.epochs.length} epochs, early stopping, ${copies} distorted copies per example, then the refit on all)`);
  }
  report.retraining = { labellingMsPerPhotoNode: embedMs / count, runs: rows };
}

/** Embedding extraction as the popup does it: every image of a page of 90 flowers, through the real extension. */
async function chromiumExtraction(): Promise<void> {
  console.log('\n## Chromium: popup classifies a page of 90 flower photos (fetch + decode + embed + thumbnail)');
  const photos = flowerPhotos();
  const server = await startServer((url) => (url.pathname === '/flowers.html' ? { status: 200, type: 'text/html', body: flowerPage(photos) } : undefined));
  const session = await launchChrome();
  try {
    const page = await session.browser.newPage();
    await page.goto(`${server.origin}/flowers.html`);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete));
    const tabId = await session.inWorker(async (url: string) => (await chrome.tabs.query({ url }))[0]!.id!, page.url());
    const warm = await session.browser.newPage();
    await warm.goto(session.extensionUrl('src/popup/popup.html?tabId=none'));
    await warm.waitForSelector('[data-engine-state="ready"]', { timeout: 60_000 });
    await warm.close();
    const view = await session.browser.newPage();
    const start = performance.now();
    await view.goto(session.extensionUrl(`src/popup/popup.html?tabId=${tabId}`));
    await view.waitForFunction((n: number) => document.querySelector('[data-testid="progress"]')?.textContent === `${n} / ${n}`, { timeout: 120_000 }, photos.length);
    const elapsed = performance.now() - start;
    console.log(`embedding extraction      ${(photos.length / (elapsed / 1000)).toFixed(1)} images/s   (${photos.length} images in ${ms(elapsed)}, popup open → all labelled)`);
    report.chromiumExtraction = { images: photos.length, ms: elapsed, imagesPerSecond: photos.length / (elapsed / 1000) };
  } finally {
    await session.close();
    await server.close();
  }
}

await fitModes();
await chromium();
await retraining();
await chromiumExtraction();
await mkdir(path.join(ROOT, 'test-results'), { recursive: true });
await writeFile(path.join(ROOT, 'test-results/bench.json'), JSON.stringify(report, null, 2));
console.log('\nWritten to test-results/bench.json');
