/**
 * `npm run bench`: the numbers the issues ask for, measured on this machine (a benchmark,
 * never a test). Prints a report and writes it to test-results/bench.json.
 *   1. Fit mode: squash vs centre-crop accuracy on the shared photos (Node, real model).
 *   2. Chromium: model load (incl. backend probe), first click→overlay, warm click→overlay,
 *      and the raw model.classify time in the same offscreen document.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { FIT_MODES } from '../src/engine/preprocess';
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
    const images = await page.$$eval('img', (imgs) => imgs.map((img, i) => ({ selector: `img:nth-of-type(1)`, index: i, src: img.currentSrc })));
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
    const offscreen = await (await session.offscreenTarget()).asPage();
    const status = (await offscreen.evaluate('spotterEngine.status')) as { backend: string; loadMs: number; probe: { backend: string; ms: number | null }[] };
    const warm: number[] = [];
    for (let round = 0; round < 2; round++) for (let i = 0; i < images.length; i++) warm.push(await click(i));
    const rawClassifyMs = (await offscreen.evaluate('spotterEngine.timeRawClassify(20)')) as number;
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
    console.log(`raw model.classify        ${ms(result.rawModelClassifyMedianMs)}   (median of 20, same offscreen document)`);
  } finally {
    await session.close();
    await server.close();
  }
}

await fitModes();
await chromium();
await mkdir(path.join(ROOT, 'test-results'), { recursive: true });
await writeFile(path.join(ROOT, 'test-results/bench.json'), JSON.stringify(report, null, 2));
console.log('\nWritten to test-results/bench.json');
