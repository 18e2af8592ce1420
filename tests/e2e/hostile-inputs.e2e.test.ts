/**
 * Hostile inputs, in real Chromium and Firefox ESR (issue 17): files edited to lock the user out,
 * model weights that are not numbers, stored data no answer can carry, JPEGs whose size hides
 * past 1 MB of padding (served to Spotter's download only, while the page shows a normal photo),
 * and noise once called "one flat colour". Each case checks the exact message, that the next
 * normal action works, and that the stored examples are byte for byte what they were.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/paths';
import { trainHead, type SerializedHead, type TrainingReport } from '../../src/engine/head';
import type { ExampleRecord, HeadRecord } from '../../src/storage/database';
import { DEFAULT_MODEL_ID, type ModelId } from '../../src/shared/models';
import { parseDataset, serializeDataset } from '../../src/storage/dataset-file';
import { PHOTOS_DIR } from '../support/photos';
import { askFrom, E2E_BROWSERS, launchSpotter, openPopupFor, type SpotterSession } from './support/browsers';
import { png } from './support/encoders';
import { startServer, type FixtureServer } from './support/fixture-server';
import { waitForSettledOverlay, type OverlaySnapshot } from './support/overlay';

const OUT = path.join(ROOT, 'test-results');
const PANDA = readFileSync(path.join(PHOTOS_DIR, 'imagenet_n02510455_giant_panda.jpg'));
/** Over 1 MB, the most the pixel-count guard used to read. */
const PADDING = 1_100_000;
const TINY_PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const DAMAGED_HEAD_NOTICE = `Your trained model is damaged, so only ImageNet's labels are shown. Retrain it, or forget it under "Your labels" in Spotter's popup.`;

// ---- Generated inputs ----

/** `total` bytes of APP15 segments (at most 65535 bytes each): comments or vendor data in a real file. */
function appSegments(total: number): Buffer {
  const parts: Buffer[] = [];
  for (let left = total; left > 0; ) {
    const data = Math.min(65533, left);
    const segment = Buffer.alloc(data + 4, 0x41);
    segment.set([0xff, 0xef, (data + 2) >> 8, (data + 2) & 0xff]);
    parts.push(segment);
    left -= data;
  }
  return Buffer.concat(parts);
}

/** The panda JPEG with `padding` after its SOI marker, its frame header saying width x height (its own size if not given). */
function paddedPanda(padding: Buffer, size?: { width: number; height: number }): Buffer {
  const jpeg = Buffer.from(PANDA);
  if (size) {
    const sof = jpeg.findIndex((byte, i) => byte === 0xff && jpeg[i + 1] === 0xc0);
    jpeg.writeUInt16BE(size.height, sof + 5);
    jpeg.writeUInt16BE(size.width, sof + 7);
  }
  return Buffer.concat([jpeg.subarray(0, 2), padding, jpeg.subarray(2)]);
}

/** A JFIF segment, then 1.1 MB of junk bytes (not a segment: libjpeg skips them with a warning). */
const JUNK_PADDING = Buffer.concat([Buffer.from([0xff, 0xe0, 0, 16, ...Buffer.from('JFIF'), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]), Buffer.alloc(PADDING)]);

/** Grain of +-15 around grey: the old check shrank it to an even grey and called it one flat colour. */
function grain(): Buffer {
  let state = 12345;
  const next = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff) >> 8) % 31;
  return png(1024, 768, () => [113 + next(), 113 + next(), 113 + next()]);
}

const embedding = (label: number, i: number) => Float32Array.from({ length: 1280 }, (_, j) => (j % 2 === label ? 1 : 0) + ((i + j) % 3) * 0.01);
const EXAMPLES: ExampleRecord[] = ['ants', 'bees'].flatMap((label, index) =>
  [0, 1, 2].map((i) => ({ id: index * 3 + i + 1, label, model: DEFAULT_MODEL_ID, embedding: embedding(index, i), thumbnail: TINY_PNG, imageUrl: `https://example.com/${label}/${i}.jpg`, pageUrl: 'https://example.com/', createdAt: 1_700_000_000_000 + index * 3 + i })),
);

/** A head trained on EXAMPLES (TF.js in Node), and copies with damaged weights. */
async function trainedHead(): Promise<HeadRecord> {
  const { head, report } = await trainHead(EXAMPLES, { epochs: 5 });
  try {
    return { model: DEFAULT_MODEL_ID, head: await head.serialize(), report, trainedAt: 1_700_000_000_100 };
  } finally {
    head.dispose();
  }
}
function withWeights(record: HeadRecord, edit: (values: Float32Array) => void): HeadRecord {
  const weightData = record.head.weightData.slice(0);
  edit(new Float32Array(weightData));
  return { ...record, head: { ...record.head, weightData } };
}

// ---- The stored data, read and written as an older version or a damaged disk could have left it ----

interface RawHead {
  model?: ModelId;
  head: Omit<SerializedHead, 'weightData'> & { weightBase64: string };
  report: TrainingReport | Record<string, unknown>;
  trainedAt: number;
}
const rawHead = (record: HeadRecord): RawHead => ({
  ...(record.model ? { model: record.model } : {}),
  head: { format: record.head.format, labels: record.head.labels, modelTopology: record.head.modelTopology, weightSpecs: record.head.weightSpecs, weightBase64: Buffer.from(record.head.weightData).toString('base64') },
  report: record.report,
  trainedAt: record.trainedAt,
});
/** Numbers JSON cannot carry, named so they survive the trip to the page. */
type Raw<T> = T extends number ? number | 'Infinity' | 'NaN' : T extends object ? { [K in keyof T]: Raw<T[K]> } : T;
interface RawExample {
  meta: Raw<Omit<ExampleRecord, 'id' | 'embedding' | 'distortions' | 'picture'>>;
  embedding: number[];
}
const rawExample = ({ id: _id, embedding: values, distortions: _d, picture: _p, ...meta }: ExampleRecord): RawExample => ({ meta, embedding: Array.from(values) });

/** Writes straight into Spotter's IndexedDB from one of its pages (the engine's documents share it). */
function writeStored(extensionPage: Page, data: { examples?: RawExample[]; head?: RawHead }): Promise<void> {
  return extensionPage.evaluate(async ({ examples, head }: { examples?: RawExample[]; head?: RawHead }) => {
    const revive = (value: unknown): unknown =>
      value === 'Infinity' ? Infinity : value === 'NaN' ? NaN : Array.isArray(value) ? value.map(revive) : typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)])) : value;
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('spotter');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const tx = db.transaction(['examples', 'features', 'heads'], 'readwrite');
    for (const example of examples ?? []) {
      const add = tx.objectStore('examples').add(revive(example.meta));
      add.onsuccess = () => tx.objectStore('features').put({ embedding: Float32Array.from(example.embedding) }, add.result);
    }
    if (head) {
      const { weightBase64, ...serialized } = head.head;
      const weightData = Uint8Array.from(atob(weightBase64), (c) => c.charCodeAt(0)).buffer;
      tx.objectStore('heads').put({ ...(head.model ? { model: head.model } : {}), head: { ...serialized, weightData }, report: revive(head.report), trainedAt: revive(head.trainedAt) }, 'current');
    }
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
    db.close();
  }, data);
}

/** The stored examples, their embeddings and the model, byte for byte (binary as base64). */
function storedSnapshot(extensionPage: Page): Promise<string> {
  return extensionPage.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('spotter');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const tx = db.transaction(['examples', 'features', 'heads']);
    const read = <T>(request: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((request.onsuccess = () => resolve(request.result)), (request.onerror = () => reject(request.error))));
    const [examples, featureKeys, features, head] = await Promise.all([read(tx.objectStore('examples').getAll()), read(tx.objectStore('features').getAllKeys()), read(tx.objectStore('features').getAll()), read(tx.objectStore('heads').get('current'))]);
    db.close();
    const base64 = (bytes: Uint8Array) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));
    return JSON.stringify({ examples, featureKeys, features, head }, (_key, value: unknown) => {
      if (value instanceof Float32Array) return base64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      if (value instanceof ArrayBuffer) return base64(new Uint8Array(value));
      if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
      return value;
    });
  });
}
const examplesOnly = (snapshot: string) => {
  const { head: _head, ...rest } = JSON.parse(snapshot) as Record<string, unknown>;
  return JSON.stringify(rest);
};

// ---- The page ----

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><style>img { width: 240px; height: 180px; margin: 6px; object-fit: cover; }</style></head><body>
<img id="panda" src="/hostile/panda.jpg">
<img id="padded-segments" src="/hostile/padded-segments.jpg">
<img id="padded-junk" src="/hostile/padded-junk.jpg">
<img id="padded-photo" src="/hostile/padded-photo.jpg">
<img id="grain" src="/hostile/grain.png">
<img id="solid" src="/hostile/solid.png">
</body></html>`;

describe.each(E2E_BROWSERS)('Spotter in %s: hostile inputs', (browserName) => {
  let site: FixtureServer;
  let spotter: SpotterSession;
  let page: Page;
  /** One of Spotter's own pages, pointed at no tab: reads and writes the stored data. */
  let control: Page;
  /** The popup, for a tab without pictures (so that it classifies nothing by itself). */
  let panel: Page;
  let good: HeadRecord;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    await mkdir(OUT, { recursive: true });
    good = await trainedHead();
    const editedExport = (edit: (text: string) => string, head: HeadRecord | undefined = good) => {
      const text = serializeDataset(EXAMPLES, head);
      const edited = edit(text);
      expect(edited).not.toBe(text);
      return edited;
    };
    const dataset = (name: string, text: string) => {
      files[name] = path.join(OUT, `${browserName}-hostile-${name}.json`);
      return writeFile(files[name], text);
    };
    await dataset('valid', serializeDataset(EXAMPLES, good));
    await dataset('infinite-date', editedExport((t) => t.replace('"createdAt":1700000000001', '"createdAt":1e309')));
    await dataset('infinite-report', editedExport((t) => t.replace(/"durationMs":[\d.e+-]+/, '"durationMs":-1e309')));
    await dataset('nan-weights', serializeDataset(EXAMPLES, withWeights(good, (values) => (values[0] = Number.NaN))));
    await dataset('overflowing-weights', serializeDataset(EXAMPLES, withWeights(good, (values) => values.fill(3e38, 0, 1280))));

    const bodies: Record<string, { type: string; body: Buffer }> = {
      '/hostile/panda.jpg': { type: 'image/jpeg', body: PANDA },
      '/hostile/padded-segments.jpg': { type: 'image/jpeg', body: paddedPanda(appSegments(PADDING), { width: 10_500, height: 10_000 }) },
      '/hostile/padded-junk.jpg': { type: 'image/jpeg', body: paddedPanda(JUNK_PADDING, { width: 12_000, height: 9_000 }) },
      '/hostile/padded-photo.jpg': { type: 'image/jpeg', body: paddedPanda(appSegments(PADDING)) },
      '/hostile/grain.png': { type: 'image/png', body: grain() },
      '/hostile/solid.png': { type: 'image/png', body: png(200, 150, () => [40, 120, 200]) },
    };
    site = await startServer((url, { dest }) => {
      if (url.pathname === '/page.html') return { status: 200, type: 'text/html', body: PAGE };
      if (url.pathname === '/blank.html') return { status: 200, type: 'text/html', body: '<!doctype html><p>No pictures here.</p>' };
      // The page's <img> gets a normal photo; Spotter's download (fetch: Sec-Fetch-Dest "empty") the padded file.
      if (url.pathname.startsWith('/hostile/padded-') && dest === 'image') return { status: 200, type: 'image/jpeg', body: PANDA };
      const file = bodies[url.pathname];
      return file && { status: 200, ...file };
    });
    spotter = await launchSpotter(browserName);
    control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    page = await spotter.browser.newPage();
    await page.goto(`${site.origin}/page.html`);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete && img.naturalWidth > 0));
  });

  afterEach(async () => {
    for (let left = (await spotter.overlays(page)).length; left > 0; left--) await page.keyboard.press('Escape');
  });

  afterAll(async () => {
    await spotter?.close();
    await site?.close();
  });

  async function rightClick(id: string): Promise<OverlaySnapshot> {
    await page.bringToFront();
    const srcUrl = await page.$eval(`#${id}`, (img) => (img as HTMLImageElement).currentSrc);
    await spotter.chooseMenuItem(page, `#${id}`, { srcUrl, mediaType: 'image' });
    const overlay = await waitForSettledOverlay(page, 60_000, spotter.overlays);
    await page.keyboard.press('Escape');
    await expect.poll(() => spotter.overlays(page).then((o) => o.length)).toBe(0);
    return overlay;
  }

  /** The next normal right-click: the panda photo, labelled. */
  async function pandaIsLabelled(): Promise<OverlaySnapshot> {
    const overlay = await rightClick('panda');
    expect(overlay.state, overlay.text).toBe('done');
    expect(overlay.labels.filter((l) => l.kind === 'imagenet')[0]?.label).toBe('giant panda');
    return overlay;
  }

  async function openPanel(): Promise<void> {
    await panel?.close();
    const blank = await spotter.browser.newPage();
    await blank.goto(`${site.origin}/blank.html`);
    panel = await openPopupFor(spotter, blank);
    await panel.click('#tab-labels');
    await panel.waitForSelector('#labels-summary, [data-testid="labels-error"]', { timeout: 30_000 });
  }

  const labelsMessage = () => panel.$eval('[data-testid="labels-message"]', (el) => el.textContent ?? '');
  const textOf = (selector: string) => panel.$eval(selector, (el) => el.textContent ?? '');

  /** Imports a file through "Import…" and Replace, and returns what the view then says. */
  async function importThroughUi(name: string): Promise<string> {
    await panel.bringToFront();
    const before = await labelsMessage();
    await (await panel.$('.transfer input[type="file"]'))!.uploadFile(files[name]!);
    await (await panel.waitForSelector('.transfer .confirm-yes'))!.click();
    await panel.waitForFunction((previous: string) => {
      const text = document.querySelector('[data-testid="labels-message"]')?.textContent ?? '';
      return text !== previous && !text.startsWith('Adding');
    }, { timeout: 60_000 }, before);
    return labelsMessage();
  }

  it('a stored model whose weights are NaN is skipped: the right-click answers with ImageNet labels and says why, and Forget clears it', async () => {
    // The engine opens (and so creates) the database; then the state an older version's import left.
    expect((await askFrom(control, { type: 'list-dataset' })).ok).toBe(true);
    await writeStored(control, { examples: EXAMPLES.map(rawExample), head: rawHead(withWeights(good, (values) => (values[3] = Number.NaN))) });
    const before = await storedSnapshot(control);

    const overlay = await rightClick('panda');
    expect(overlay.state, overlay.text).toBe('done');
    expect(overlay.labels.map((l) => l.kind)).toEqual(['imagenet', 'imagenet', 'imagenet']);
    expect(overlay.labels[0]!.label).toBe('giant panda');
    expect(overlay.text).toContain(DAMAGED_HEAD_NOTICE);

    // "Your labels" lists the examples, says the model could not be read, and offers Forget.
    await openPanel();
    expect(await textOf('#labels-summary')).toBe('6 examples in 2 labels.');
    expect(await textOf('[data-testid="unreadable-model"]')).toBe('Spotter could not read the trained model. Forget it, or retrain to replace it.');
    await panel.click('[data-testid="labels-forget-model"]');
    await (await panel.waitForSelector('.transfer-danger .confirm-yes'))!.click();
    await expect.poll(labelsMessage).toBe('The trained model is forgotten.');
    await panel.waitForFunction(() => !document.querySelector('[data-testid="unreadable-model"]'));

    // The next right-click: no note, and the examples are as they were.
    expect((await pandaIsLabelled()).text).not.toContain(DAMAGED_HEAD_NOTICE);
    const after = await storedSnapshot(control);
    expect(examplesOnly(after)).toBe(examplesOnly(before));
    expect(JSON.parse(after).head).toBeUndefined();
  });

  it.each([
    ['infinite-date', 'This Spotter dataset is damaged (examples.1.createdAt: a number too large to use). Nothing was changed.'],
    ['infinite-report', 'This Spotter dataset is damaged (head.report.durationMs: a number too large to use). Nothing was changed.'],
    ['nan-weights', 'This Spotter dataset is damaged (the model: its weight "WEIGHT" holds a value that is not a finite number (NaN, value 1 of 2560)). Nothing was changed.'],
    ['overflowing-weights', 'The model in this file cannot be loaded (it gave NaN on a test input, not a probability). Nothing was changed.'],
  ])('an export edited to hold %s is refused, changing nothing, and the next right-click is answered', async (name, message) => {
    await openPanel();
    const before = await storedSnapshot(control);
    expect(await importThroughUi(name)).toBe(message.replace('WEIGHT', good.head.weightSpecs[0]!.name));
    expect(await storedSnapshot(control)).toBe(before);
    expect(await textOf('#labels-summary')).toBe('6 examples in 2 labels.');
    await pandaIsLabelled();
  });

  it('the valid export imports, and its model answers first', async () => {
    await openPanel();
    expect(await importThroughUi('valid')).toBe('Imported 6 examples in 2 labels and the trained model.');
    const overlay = await pandaIsLabelled();
    expect(overlay.labels[0]!.kind).toBe('user');
    expect(overlay.text).not.toContain(DAMAGED_HEAD_NOTICE);
  });

  it('stored data that no answer can carry still leaves the way out: Export what is readable, Delete everything, Import', async () => {
    // An example dated Infinity and a model whose report holds Infinity, as an older version's import left them.
    await writeStored(control, {
      examples: [{ ...rawExample(EXAMPLES[0]!), meta: { ...rawExample(EXAMPLES[0]!).meta, createdAt: 'Infinity' } }],
      head: { ...rawHead(good), report: { ...good.report, accuracy: 'Infinity' } },
    });
    const before = await storedSnapshot(control);
    await openPanel();
    expect(await textOf('#labels-summary')).toBe('6 examples in 2 labels.');
    expect(await textOf('[data-testid="unreadable-examples"]')).toBe('Spotter could not read 1 stored example, so it is not shown. "Export everything" leaves it out; "Delete everything" removes it.');
    expect(await textOf('[data-testid="unreadable-model"]')).toBe('Spotter could not read the trained model. Forget it, or retrain to replace it.');
    const buttons = await panel.$$eval('.labels-view button, .labels-view .file-button', (els) => els.map((el) => el.textContent?.trim() ?? ''));
    expect(buttons).toEqual(expect.arrayContaining(['Export everything', 'Import…', 'Forget the model', 'Delete everything', 'Delete label']));
    await panel.screenshot({ path: path.join(OUT, `${browserName}-labels-unreadable.png`), fullPage: true });

    // Export everything: what can be read, in a file that imports again. (Link clicks are caught: automation cannot drive the download UI.)
    const exported = await panel.evaluate(async () => {
      const saved: Promise<string>[] = [];
      HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
        saved.push(fetch(this.href).then((response) => response.text()));
      };
      [...document.querySelectorAll('button')].find((button) => button.textContent?.trim() === 'Export everything')!.click();
      for (let waited = 0; saved.length === 0 && waited < 30_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      return Promise.all(saved);
    });
    await expect.poll(labelsMessage).toBe('Exported what Spotter could read to one file. 1 stored example could not be read and was left out. The trained model could not be read and was left out.');
    expect(exported).toHaveLength(1);
    const parsed = parseDataset(exported[0]!);
    expect(parsed.examples.map((e) => e.label)).toEqual(EXAMPLES.map((e) => e.label));
    expect(parsed.head).toBeNull();
    files.readable = path.join(OUT, `${browserName}-hostile-readable.json`);
    await writeFile(files.readable, exported[0]!);
    expect(await storedSnapshot(control)).toBe(before);
    await pandaIsLabelled();

    // Delete everything, then the export imports.
    await panel.bringToFront();
    await panel.click('[data-testid="delete-all"]');
    expect(await textOf('.transfer-danger .inline-confirm')).toContain('Delete all your examples and the trained model?');
    await (await panel.waitForSelector('.transfer-danger .confirm-yes'))!.click();
    await expect.poll(labelsMessage).toBe('Deleted 7 examples and the trained model.');
    await expect.poll(() => textOf('#labels-summary')).toMatch(/^No examples yet/);
    expect(JSON.parse(await storedSnapshot(control))).toMatchObject({ examples: [], features: [] });
    expect(await importThroughUi('readable')).toBe('Imported 6 examples in 2 labels.');
    await expect.poll(() => textOf('#labels-summary')).toBe('6 examples in 2 labels.');
    expect(await panel.$('[data-testid="unreadable-examples"]')).toBeNull();
    await pandaIsLabelled();
  });

  it('a JPEG whose frame header comes after 1.1 MB of padding is refused by its real size (the page showed a normal photo)', async () => {
    const before = await storedSnapshot(control);
    for (const [id, size] of [['padded-segments', '10500 x 10000'], ['padded-junk', '12000 x 9000']] as const) {
      const overlay = await rightClick(id);
      expect(overlay.state, `${id}: ${overlay.text}`).toBe('error');
      expect(overlay.error).toBe(`The image is too large to decode (${size} pixels; the limit is 100 megapixels).`);
      // Spotter's download got the padded file; the page's own <img> the photo.
      expect(site.visits.filter((visit) => visit.path === `/hostile/${id}.jpg`).map((visit) => visit.dest)).toEqual(expect.arrayContaining(['image', 'empty']));
    }
    // The same padding before a photo's own frame header: still a photo.
    const photo = await rightClick('padded-photo');
    expect(photo.state, photo.text).toBe('done');
    expect(photo.labels.find((l) => l.kind === 'imagenet')?.label).toBe('giant panda');
    await pandaIsLabelled();
    expect(await storedSnapshot(control)).toBe(before);
  });

  it('grain is not called one flat colour, and one colour still is', async () => {
    const noisy = await rightClick('grain');
    expect(noisy.state, noisy.text).toBe('done');
    expect(noisy.labels.filter((l) => l.kind === 'imagenet')).toHaveLength(3);
    const solid = await rightClick('solid');
    expect(solid.error).toBe('This image is one flat colour: there is nothing in it to recognise.');
    await pandaIsLabelled();
  });
});
