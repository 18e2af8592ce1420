/**
 * A long session in one engine host, driven through the requests the extension sends
 * (BrowserEngineHost.handle, as the offscreen document and Firefox's event page do), with the
 * real MobileNet on WASM. After a warm-up, every request must leave TF.js's tensor count and
 * byte count where it found them, or move them by exactly one head where it adds, replaces or
 * forgets the user's head. Node has no createImageBitmap, canvas or <img>: small fakes stand in for
 * them (JPEG decoding by jpeg-js), and they count the bitmaps the host forgets to close.
 */
import 'fake-indexeddb/auto';
import '@tensorflow/tfjs-backend-wasm';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROVISIONED, provisionedModelDir } from '../../scripts/paths';
import { DEFAULT_MODEL_ID, MODELS } from '../../src/shared/models';
import { BrowserEngineHost } from '../../src/engine/browser-host';
import { fileModelHandler } from '../../src/engine/node-model';
import { trainHead } from '../../src/engine/head';
import type { ImageSource, TrainingState } from '../../src/shared/protocol';
import { allExamples } from '../../src/storage/dataset';
import { serializeDataset } from '../../src/storage/dataset-file';
import { loadHead } from '../../src/storage/head-store';
import { stageImport } from '../../src/storage/import-staging';
import { nodeEngine } from '../support/engine';
import { labelledPhotos, RETRAIN_DIR } from '../support/photos';

// ---- Stand-ins for the browser APIs the host uses (image-decode.ts, thumbnail.ts) ----

/** An ImageBitmap as far as the host and TF.js see it: tf.browser.fromPixels reads {width, height, data} as RGBA pixels. */
class FakeBitmap {
  closed = false;
  constructor(
    readonly width: number,
    readonly height: number,
    readonly data: Uint8Array,
  ) {
    open.add(this);
  }
  close(): void {
    this.closed = true;
    open.delete(this);
  }
}
const open = new Set<FakeBitmap>();
let bitmapsMade = 0;

function asBitmap(bitmap: FakeBitmap): ImageBitmap {
  return bitmap as unknown as ImageBitmap;
}

/** Nearest-neighbour is enough here: only the sizes and the closing matter. */
function resized(source: FakeBitmap, width: number, height: number): FakeBitmap {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (Math.floor((y * source.height) / height) * source.width + Math.floor((x * source.width) / width)) * 4;
      data.set(source.data.subarray(from, from + 4), (y * width + x) * 4);
    }
  }
  return new FakeBitmap(width, height, data);
}

async function fakeCreateImageBitmap(source: unknown, options?: ImageBitmapOptions): Promise<ImageBitmap> {
  bitmapsMade++;
  if (source instanceof FakeBitmap) {
    // Browsers refuse a closed bitmap (InvalidStateError).
    if (source.closed) throw new DOMException('The image source is closed.', 'InvalidStateError');
    return asBitmap(resized(source, options?.resizeWidth ?? source.width, options?.resizeHeight ?? source.height));
  }
  if (!(source instanceof Blob)) throw new TypeError('fake createImageBitmap: unsupported source');
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(new Uint8Array(await source.arrayBuffer()), { useTArray: true, formatAsRGBA: true });
  } catch {
    throw new DOMException('The source image could not be decoded.', 'InvalidStateError');
  }
  return asBitmap(new FakeBitmap(decoded.width, decoded.height, decoded.data));
}

/** A part of a bitmap (drawImage's source rectangle). */
function cropped(source: FakeBitmap, x: number, y: number, width: number, height: number): FakeBitmap {
  const data = new Uint8Array(width * height * 4);
  for (let row = 0; row < height; row++) data.set(source.data.subarray(((y + row) * source.width + x) * 4, ((y + row) * source.width + x + width) * 4), row * width * 4);
  return new FakeBitmap(width, height, data);
}

/**
 * OffscreenCanvas as image-decode.ts uses it: white fill, drawing a bitmap (or a part of it) scaled
 * from the top left, resizing (which clears it), reading pixels, handing them over as a bitmap.
 */
class FakeOffscreenCanvas {
  private pixels: Uint8Array;
  private size: { width: number; height: number };
  constructor(width: number, height: number) {
    this.size = { width, height };
    this.pixels = new Uint8Array(width * height * 4);
  }
  get width(): number {
    return this.size.width;
  }
  set width(width: number) {
    this.size = { ...this.size, width };
    this.pixels = new Uint8Array(this.size.width * this.size.height * 4);
  }
  get height(): number {
    return this.size.height;
  }
  set height(height: number) {
    this.size = { ...this.size, height };
    this.pixels = new Uint8Array(this.size.width * this.size.height * 4);
  }
  getContext(kind: string) {
    if (kind !== '2d') return null;
    return {
      fillStyle: '#000',
      imageSmoothingQuality: 'low',
      fillRect: () => this.pixels.fill(255),
      drawImage: (image: unknown, ...place: number[]) => {
        if (!(image instanceof FakeBitmap) || image.closed) throw new DOMException('The image source is closed.', 'InvalidStateError');
        // drawImage(image, dx, dy, dw, dh) or drawImage(image, sx, sy, sw, sh, dx, dy, dw, dh); drawn at the top left either way.
        const part = place.length === 8 ? cropped(image, place[0]!, place[1]!, place[2]!, place[3]!) : image;
        const [width = this.width, height = this.height] = place.length === 8 ? place.slice(6) : place.slice(2);
        const drawn = resized(part, width, height);
        if (part !== image) part.close();
        drawn.close();
        for (let row = 0; row < Math.min(height, this.height); row++) {
          this.pixels.set(drawn.data.subarray(row * width * 4, (row * width + Math.min(width, this.width)) * 4), row * this.width * 4);
        }
      },
      getImageData: () => ({ data: new Uint8ClampedArray(this.pixels) }),
    };
  }
  transferToImageBitmap(): ImageBitmap {
    return asBitmap(new FakeBitmap(this.width, this.height, this.pixels.slice()));
  }
}

/** An <img> that, like Chromium's for a damaged file, cannot load what createImageBitmap refused. */
class FakeImage {
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  naturalWidth = 0;
  naturalHeight = 0;
  set src(_url: string) {
    setTimeout(() => this.onerror?.(), 0);
  }
}

const fakeDocument = {
  createElement(tag: string) {
    if (tag !== 'canvas') throw new Error(`fake document: no <${tag}>`);
    return {
      width: 0,
      height: 0,
      getContext: () => ({
        drawImage(image: unknown) {
          if (image instanceof FakeBitmap && image.closed) throw new DOMException('The image source is closed.', 'InvalidStateError');
        },
      }),
      toDataURL: () => 'data:image/jpeg;base64,/9j/',
    };
  },
};

// ---- The images, served over HTTP with the model, as a web server and the extension would ----

function jpegOf(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([(i * 7) % 256, (i * 13) % 256, (i * 29) % 256, 255], i * 4);
  return jpeg.encode({ data, width, height }, 80).data;
}

/** A PNG header that declares 30000 x 30000 pixels: refused before decoding. */
function hugePngHeader(): Buffer {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write('IHDR', 12, 'ascii');
  bytes.writeUInt32BE(30_000, 16);
  bytes.writeUInt32BE(30_000, 20);
  bytes.set([8, 6, 0, 0, 0], 24);
  return bytes;
}

const photos = labelledPhotos();
/** The first four photos of a hymenoptera label, by file name. */
const retrainFiles = (label: string) =>
  readdirSync(path.join(RETRAIN_DIR, 'hymenoptera', label))
    .filter((file) => /\.jpe?g$/i.test(file))
    .sort()
    .slice(0, 4)
    .map((file) => path.join(RETRAIN_DIR, 'hymenoptera', label, file));

const images = new Map<string, { type: string; bytes: Buffer }>();
for (const photo of photos) images.set(photo.file, { type: 'image/jpeg', bytes: readFileSync(photo.path) });
for (const label of ['ants', 'bees']) retrainFiles(label).forEach((file, i) => images.set(`${label}-${i}.jpg`, { type: 'image/jpeg', bytes: readFileSync(file) }));
images.set('one-pixel.jpg', { type: 'image/jpeg', bytes: jpegOf(1, 1) });
// Over the 1024 px decode limit, so decodeImage scales it (and must close the full-size bitmap).
images.set('wide.jpg', { type: 'image/jpeg', bytes: jpegOf(1300, 600) });
images.set('corrupt.jpg', { type: 'image/jpeg', bytes: Buffer.concat([readFileSync(photos[0]!.path).subarray(0, 600), Buffer.alloc(400, 0x55)]) });
images.set('empty.jpg', { type: 'image/jpeg', bytes: Buffer.alloc(0) });
images.set('huge.png', { type: 'image/png', bytes: hugePngHeader() });

function serve(): Promise<Server> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const image = url.pathname.startsWith('/img/') ? images.get(url.pathname.slice('/img/'.length)) : undefined;
    if (image) {
      response.writeHead(200, { 'content-type': image.type, 'content-length': image.bytes.length });
      response.end(image.bytes);
      return;
    }
    if (url.pathname.startsWith('/models/')) {
      try {
        const bytes = readFileSync(path.join(PROVISIONED, path.normalize(url.pathname)));
        response.writeHead(200, { 'content-type': url.pathname.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
        response.end(bytes);
        return;
      } catch {
        // Falls through to 404.
      }
    }
    response.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---- Measuring ----

interface Footprint {
  tensors: number;
  bytes: number;
}

function footprint(): Footprint {
  const { numTensors, numBytes } = tf.memory();
  return { tensors: numTensors, bytes: numBytes };
}

const NO_CHANGE: Footprint = { tensors: 0, bytes: 0 };
const measured: { operation: string; tensors: number; bytes: number }[] = [];

/**
 * Runs one request and checks how far it moved TF.js's memory: by `expected` (nothing, unless it
 * adds or drops a head; a function when that is only known afterwards).
 */
async function expectFootprint<T>(operation: string, work: () => Promise<T>, expectation: Footprint | (() => Promise<Footprint>) = NO_CHANGE): Promise<T> {
  const before = footprint();
  const result = await work();
  const after = footprint();
  const expected = typeof expectation === 'function' ? await expectation() : expectation;
  const change = { tensors: after.tensors - before.tensors, bytes: after.bytes - before.bytes };
  measured.push({ operation, ...change });
  const extra = { tensors: change.tensors - expected.tensors, bytes: change.bytes - expected.bytes };
  expect(change, `${operation}: ${extra.tensors} tensor(s) and ${extra.bytes} bytes more than expected (${JSON.stringify(expected)})`).toEqual(expected);
  expect(open.size, `${operation}: ${open.size} ImageBitmap(s) left open`).toBe(0);
  return result;
}

/** The WASM backend's linear memory: what malloc has ever grown it to (it never shrinks). */
function wasmHeapBytes(): number {
  // BackendWasm types its module as EmscriptenModule, whose typings this project does not load.
  return (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
}

// ---- The session ----

let server: Server;
let host: BrowserEngineHost;
let base: string;
let baseline: Footprint & { wasmHeap: number };

const source = (name: string): ImageSource => ({ url: `${base}/img/${name}`, pageUrl: `${base}/page.html` });

async function finished(): Promise<TrainingState> {
  for (;;) {
    const state = await host.handle({ type: 'training-status' });
    if (state.phase !== 'running') return state;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A head's weights as TF.js holds them, read from its exported model.json: what one head adds. */
async function headFootprint(): Promise<Footprint> {
  const { modelJson } = await host.handle({ type: 'export-head' });
  const manifest = (JSON.parse(modelJson) as { weightsManifest: { weights: { shape: number[]; dtype: string }[] }[] }).weightsManifest;
  const weights = manifest.flatMap((group) => group.weights);
  expect(weights.every((w) => w.dtype === 'float32')).toBe(true);
  return { tensors: weights.length, bytes: weights.reduce((sum, w) => sum + 4 * w.shape.reduce((n, d) => n * d, 1), 0) };
}

// As in browser-host.test.ts: the WASM backend starts from node_modules, before a host points setWasmPaths elsewhere.
beforeAll(async () => {
  await tf.setBackend('wasm');
});

const negative = ({ tensors, bytes }: Footprint): Footprint => ({ tensors: -tensors, bytes: -bytes });

describe('a long session leaks no tensors, memory or bitmaps (real model, WASM, through BrowserEngineHost)', () => {
  beforeAll(async () => {
    vi.stubGlobal('createImageBitmap', fakeCreateImageBitmap);
    vi.stubGlobal('document', fakeDocument);
    vi.stubGlobal('OffscreenCanvas', FakeOffscreenCanvas);
    vi.stubGlobal('Image', FakeImage);
    server = await serve();
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    host = new BrowserEngineHost((asset) => `${base}/${asset}`);
    // Warm-up: the model loads (backend probe included) and one image goes through every step once.
    await host.handle({ type: 'get-status', warmUp: true });
    expect((await host.engine()).status.state).toBe('ready');
    await host.handle({ type: 'classify-image', source: source(photos[0]!.file) });
    baseline = { ...footprint(), wasmHeap: wasmHeapBytes() };
  });

  afterAll(async () => {
    vi.unstubAllGlobals();
    await new Promise((resolve) => server.close(resolve));
    const changes = measured.filter((m) => m.tensors !== 0 || m.bytes !== 0);
    console.log(`memory.test: after warm-up ${JSON.stringify(baseline)}; ${measured.length} requests measured, these changed the count: ${JSON.stringify(changes)}`);
  });

  it('50 classifications, failed ones included, each give back every tensor and bitmap, and the WASM heap stops growing', async () => {
    const failing: Record<string, RegExp> = {
      'corrupt.jpg': /JPEG image is damaged or incomplete/,
      'one-pixel.jpg': /only 1 x 1 pixels/,
      'empty.jpg': /The image is empty/,
      'huge.png': /too large to decode/,
      'missing.jpg': /HTTP 404/,
    };
    const names = [...photos.map((p) => p.file), 'wide.jpg', ...Object.keys(failing)];
    const order = Array.from({ length: 50 }, (_, i) => names[i % names.length]!);
    let heapAfterFirstPass = 0;
    for (const [i, name] of order.entries()) {
      const expected = failing[name];
      await expectFootprint(`classify-image #${i + 1} (${name})`, async () => {
        if (expected) return expect(host.handle({ type: 'classify-image', source: source(name) })).rejects.toThrow(expected);
        const result = await host.handle({ type: 'classify-image', source: source(name) });
        expect(result.imagenet).toHaveLength(3);
        expect(result.user).toBeNull();
      });
      if (i === names.length - 1) heapAfterFirstPass = wasmHeapBytes();
    }
    // Every size has been seen once: a second pass of the same images reuses the heap it grew to.
    expect(wasmHeapBytes(), 'the WASM heap grew during the second pass over the same images').toBe(heapAfterFirstPass);
    expect(bitmapsMade).toBeGreaterThan(40);
  });

  it('the engine gives back tensors when an image has no pixels at all (classification and distorted copies)', async () => {
    const empty = tf.zeros([0, 0, 3], 'int32') as tf.Tensor3D;
    try {
      await expectFootprint('engine.classify of a 0 x 0 image', () => expect(host.engine().then((engine) => engine.classify(empty))).rejects.toThrow(/no pixels/));
      await expectFootprint('engine.distortedEmbeddings of a 0 x 0 image', () => expect(host.engine().then((engine) => engine.distortedEmbeddings(empty, 1))).rejects.toThrow(/no pixels/));
    } finally {
      empty.dispose();
    }
  });

  it('labelling (classification + 8 distorted copies) gives back every tensor', async () => {
    for (const label of ['ants', 'bees']) {
      for (let i = 0; i < 4; i++) {
        const added = await expectFootprint(`add-example ${label}-${i}`, () => host.handle({ type: 'add-example', source: source(`${label}-${i}.jpg`), label, pageUrl: `${base}/page.html` }));
        expect(added.label).toBe(label);
      }
    }
    await expectFootprint('add-example of a corrupt image', () =>
      expect(host.handle({ type: 'add-example', source: source('corrupt.jpg'), label: 'ants', pageUrl: base })).rejects.toThrow(/damaged or incomplete/),
    );
    const stored = await allExamples();
    expect(stored).toHaveLength(8);
    expect(stored.every((example) => example.distortions?.length === 8)).toBe(true);
  });

  it('retrains, predicts with the head, replaces, exports, imports and forgets it: only the current head stays', async () => {
    // 1: the fold heads and the kept head trained together; the kept head is the one new thing in memory.
    let head: Footprint = NO_CHANGE;
    await expectFootprint(
      'train (cross-validated)',
      async () => {
        await host.handle({ type: 'train', options: { epochs: 8 } });
        const first = await finished();
        expect(first.phase).toBe('done');
        expect(first.report!.evaluatedOn).toBe('cross-validation');
      },
      async () => (head = await headFootprint()),
    );
    expect(head.tensors).toBeGreaterThan(0);

    for (let i = 0; i < 5; i++) {
      const name = i % 2 ? 'wide.jpg' : photos[i]!.file;
      await expectFootprint(`classify-image with the head #${i + 1}`, async () => {
        const result = await host.handle({ type: 'classify-image', source: source(name) });
        expect(result.user?.labels.map((l) => l.label).sort()).toEqual(['ants', 'bees']);
      });
    }

    // 2: another seed; the new head replaces the old one, which must be disposed.
    await expectFootprint('train (another seed) replacing the head', async () => {
      await host.handle({ type: 'train', options: { epochs: 8, seed: 7 } });
      expect((await finished()).report?.options.seed).toBe(7);
    });

    // 3: a run that breaks mid-way. The engine cannot cancel a run, and no option the host accepts makes one fail
    // part-way, so the progress callback throws at epoch 3: trainHead must still dispose its model, optimiser and batches.
    const examples = (await allExamples()).map(({ embedding, distortions, label }) => ({ embedding, distortions, label }));
    await expectFootprint('trainHead failing at epoch 3 (cross-validated run)', () =>
      expect(
        trainHead(examples, { epochs: 8 }, ({ epoch }) => {
          if (epoch === 3) throw new Error('progress callback failed');
        }),
      ).rejects.toThrow('progress callback failed'),
    );
    await expectFootprint('classify-image with the head kept after the failed run', async () => {
      expect((await host.handle({ type: 'classify-image', source: source(photos[1]!.file) })).user).not.toBeNull();
    });

    await expectFootprint('export-head', async () => {
      const files = await host.handle({ type: 'export-head' });
      expect(JSON.parse(files.labelsJson)).toEqual(['ants', 'bees']);
    });

    // Export the dataset with its head as the popup does, then import it: the imported head replaces the current one.
    const file = serializeDataset(await allExamples(), await loadHead());
    await expectFootprint('import-dataset with a head, replacing the current one', async () => {
      await stageImport(new Blob([file]));
      expect(await host.handle({ type: 'import-dataset' })).toEqual({ examples: 8, labels: 2, head: true });
    });
    await expectFootprint('forget-model', () => host.handle({ type: 'forget-model' }), negative(head));
    await expectFootprint('import-dataset with a head, none before', async () => {
      await stageImport(new Blob([file]));
      await host.handle({ type: 'import-dataset' });
    }, head);
    await expectFootprint('import-dataset of a corrupt file', async () => {
      await stageImport(new Blob(['{"format": "spotter-dataset@1", "examples": [']));
      await expect(host.handle({ type: 'import-dataset' })).rejects.toThrow(/not JSON/);
    });
    await expectFootprint('classify-image with the imported head', async () => {
      expect((await host.handle({ type: 'classify-image', source: source(photos[2]!.file) })).user).not.toBeNull();
    });
  });
});

describe('a model load that gave up, and the retry after it, keep one model between them', () => {
  const remembersWasm = { recall: async () => 'wasm' as const, remember: async () => undefined };

  function gate(): { opened: Promise<void>; open(): void } {
    let open = () => {};
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { opened, open };
  }

  it('disposes the retry\'s model when the first load arrives late, before the retry finishes', async () => {
    // What one model holds, from a plain load.
    const before = footprint();
    await nodeEngine({ memory: remembersWasm }).ready();
    const oneModel = { tensors: footprint().tensors - before.tensors, bytes: footprint().bytes - before.bytes };
    expect(oneModel.tensors).toBeGreaterThan(100);

    // The first load waits on a gate past its time limit; the retry's waits on another.
    const { load } = fileModelHandler(path.join(provisionedModelDir(MODELS[DEFAULT_MODEL_ID]), 'model.json'));
    if (!load) throw new Error('fileModelHandler gave no load()');
    const gates = [gate(), gate()];
    let loads = 0;
    const engine = nodeEngine({
      model: { load: async () => (await gates[loads++]!.opened, load()) },
      memory: remembersWasm,
      // Long enough for the retry to finish after the late model has loaded (0.3-0.5 s each here).
      loadTimeoutMs: 5_000,
    });
    const start = footprint();
    await expect(engine.ready()).rejects.toThrow(/Loading the model took longer/);
    const retry = engine.ready();
    await expect.poll(() => loads).toBe(2);
    gates[0]!.open();
    // The late model is kept and in use before the retry is done.
    await expect.poll(() => engine.status.state, { timeout: 20_000 }).toBe('ready');
    const late = await engine.ready();
    gates[1]!.open();
    const retried = await retry;
    const change = { tensors: footprint().tensors - start.tensors, bytes: footprint().bytes - start.bytes };
    expect(change, `a retried load left ${change.tensors - oneModel.tensors} tensor(s) / ${change.bytes - oneModel.bytes} bytes more than one model`).toEqual(oneModel);
    // Compared by identity in a boolean: vitest would take half a minute to print two models that differ.
    expect(retried === late, 'the retry should answer with the model already in use').toBe(true);
    expect((await engine.ready()) === late).toBe(true);
  });
});
