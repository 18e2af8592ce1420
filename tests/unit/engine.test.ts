import { readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as mobilenet from '@tensorflow-models/mobilenet';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SpotterEngine } from '../../src/engine/engine';
import { fileModelHandler } from '../../src/engine/node-model';
import { fittedView, pixelGridOf, resizedViews } from '../../src/engine/preprocess';
import { distortionSeedOf } from '../../src/engine/distort';
import { DEFAULT_MODEL_ID, MODEL_IDS, MODELS, type ModelId } from '../../src/shared/models';
import { provisionedModelDir } from '../../scripts/paths';
import { nodeEngine } from '../support/engine';
import { decodeJpeg, labelledPhotos, PHOTOS_DIR } from '../support/photos';

/**
 * Each backbone's reference for the same 224 x 224 input, computed the way its own documentation
 * says (not through the engine): v2 through @tensorflow-models/mobilenet's classify() and infer(),
 * EdgeTPU with the recipe of its NOTICE.txt ((pixel - 128) / 127, nodes 'logits' and 'embedding').
 */
async function referenceOf(id: ModelId, input: tf.Tensor3D): Promise<{ classNames: string[]; probabilities: number[]; embedding: Float32Array }> {
  const handler = fileModelHandler(path.join(provisionedModelDir(MODELS[id]), 'model.json'));
  if (id === 'mobilenet-v2') {
    const model = await mobilenet.load({ version: 2, alpha: 1.0, modelUrl: handler });
    const top = await model.classify(input, 3);
    const embedding = tf.tidy(() => model.infer(input, true));
    const values = (await embedding.data()) as Float32Array;
    embedding.dispose();
    return { classNames: top.map((c) => c.className), probabilities: top.map((c) => c.probability), embedding: values };
  }
  const graph = await tf.loadGraphModel(handler);
  const [probabilities, embedding] = tf.tidy(() => {
    const x = tf.expandDims(tf.div(tf.sub(input, 128), 127), 0);
    const [logits, pooled] = graph.execute(x, ['logits', 'embedding']) as tf.Tensor[];
    return [tf.softmax(tf.slice(logits!, [0, 1], [-1, 1000])), tf.reshape(pooled!, [-1])];
  });
  const probabilityValues = Array.from(await probabilities!.data());
  const embeddingValues = (await embedding!.data()) as Float32Array;
  tf.dispose([probabilities!, embedding!]);
  graph.dispose();
  const { IMAGENET_CLASSES } = await import('@tensorflow-models/mobilenet/dist/imagenet_classes.js');
  const top = probabilityValues.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 3);
  return { classNames: top.map(([, i]) => IMAGENET_CLASSES[i]!), probabilities: top.map(([p]) => p), embedding: embeddingValues };
}

describe.each(MODEL_IDS)('SpotterEngine on the real %s (Node, WASM)', (id) => {
  let engine: SpotterEngine;
  const remembered: string[] = [];

  beforeAll(async () => {
    engine = nodeEngine({
      descriptor: MODELS[id],
      // A stand-in for the saved backend choice (IndexedDB in the extension; storedBackendChoice is tested on fake-indexeddb in storage.test.ts).
      memory: {
        recall: async () => undefined,
        remember: async (_fingerprint, backend) => void remembered.push(backend),
      },
    });
    await engine.ready();
  });

  it('loads once, on the measured backend, and remembers the choice', async () => {
    const status = engine.status;
    expect(status).toMatchObject({ state: 'ready', model: id, backend: 'wasm', error: null });
    expect(status.probe?.[0]).toMatchObject({ backend: 'wasm' });
    expect(status.loadMs).toBeGreaterThan(0);
    expect(remembered).toEqual(['wasm']);
    // A second ready() reuses the loaded model.
    expect(await engine.ready()).toBe(await engine.ready());
  });

  it('gets top-1 right on all 15 shared test photos (MobileNet v2 did before the second backbone came)', async () => {
    const photos = labelledPhotos();
    // Every photo in the folder has its row in labels.csv: the 15 of the test's name.
    expect(photos.map((p) => p.file).sort()).toEqual(readdirSync(PHOTOS_DIR).filter((file) => file.endsWith('.jpg')).sort());
    expect(photos).toHaveLength(15);
    const misses: string[] = [];
    for (const photo of photos) {
      const pixels = decodeJpeg(photo.path);
      const { imagenet } = await engine.classify(pixels);
      pixels.dispose();
      expect(imagenet).toHaveLength(3);
      if (!imagenet[0]!.fullName.toLowerCase().includes(photo.expected.toLowerCase())) misses.push(`${photo.file}: got ${imagenet[0]!.fullName}`);
    }
    expect(misses, misses.join('\n')).toEqual([]);
  });

  it('returns short labels with the full ImageNet name and sorted probabilities', async () => {
    const photo = labelledPhotos().find((p) => p.expected === 'giant panda')!;
    const pixels = decodeJpeg(photo.path);
    const { imagenet, inferMs } = await engine.classify(pixels, 5);
    pixels.dispose();
    expect(imagenet[0]).toMatchObject({ label: 'giant panda' });
    expect(imagenet[0]!.fullName).toMatch(/^giant panda, panda/);
    expect(imagenet[0]!.probability).toBeGreaterThan(0.9);
    expect(imagenet).toHaveLength(5);
    for (let i = 1; i < imagenet.length; i++) expect(imagenet[i]!.probability).toBeLessThanOrEqual(imagenet[i - 1]!.probability);
    expect(inferMs).toBeGreaterThan(0);
  });

  it('serves concurrent requests in order and leaks no tensors', async () => {
    const photos = labelledPhotos().slice(0, 4);
    const inputs = photos.map((p) => decodeJpeg(p.path));
    const before = tf.memory().numTensors;
    // Started together; each records when it finished (Promise.all alone keeps the input order whatever happens).
    const finished: number[] = [];
    const results = await Promise.all(inputs.map((pixels, i) => engine.classify(pixels).then((result) => (finished.push(i), result))));
    expect(finished).toEqual(photos.map((_, i) => i));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(inputs);
    results.forEach((result, i) => expect(result.imagenet[0]!.fullName.toLowerCase()).toContain(photos[i]!.expected.toLowerCase()));
  });

  it("gives the classes and embedding of the model's own reference, in one pass", async () => {
    const photo = labelledPhotos().find((p) => p.expected === 'zebra')!;
    const pixels = decodeJpeg(photo.path);
    const { imagenet, embedding } = await engine.classify(pixels, 3);
    // The same resized view the engine makes, then each model's documented way in.
    const [height, width] = pixels.shape;
    const view = resizedViews(await pixelGridOf(pixels), [fittedView(width, height, MODELS[id].fitMode)]);
    const input = tf.tensor3d(view, [224, 224, 3]);
    const reference = await referenceOf(id, input);
    expect(imagenet.map((c) => c.fullName)).toEqual(reference.classNames);
    imagenet.forEach((c, i) => expect(c.probability).toBeCloseTo(reference.probabilities[i]!, 5));
    expect(embedding).toHaveLength(1280);
    let maxDiff = 0;
    for (let i = 0; i < 1280; i++) maxDiff = Math.max(maxDiff, Math.abs(embedding[i]! - reference.embedding[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
    tf.dispose([pixels, input]);
  });

  it('embeds seeded distorted copies: different from the plain view, the same for the same image, no leaks', async () => {
    const photos = labelledPhotos();
    const zebra = decodeJpeg(photos.find((p) => p.expected === 'zebra')!.path);
    const stranger = decodeJpeg(photos.find((p) => p.expected !== 'zebra')!.path);
    const { embedding } = await engine.classify(zebra);
    const { embedding: strangerEmbedding } = await engine.classify(stranger);
    const seed = distortionSeedOf(embedding);
    const before = tf.memory().numTensors;
    const copies = await engine.distortedEmbeddings(zebra, seed, 4);
    const again = await engine.distortedEmbeddings(zebra, seed, 4);
    const otherSeed = await engine.distortedEmbeddings(zebra, seed + 1, 4);
    expect(await engine.distortedEmbeddings(zebra, seed, 0)).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([zebra, stranger]);
    expect(copies).toHaveLength(4);
    const distance = (a: Float32Array, b: Float32Array) => Math.hypot(...a.map((value, i) => value - b[i]!));
    for (const [i, copy] of copies.entries()) {
      expect(copy).toHaveLength(1280);
      expect(Array.from(copy)).toEqual(Array.from(again[i]!));
      expect(Array.from(copy)).not.toEqual(Array.from(otherSeed[i]!));
      // A different view of the same zebra: not the plain embedding, but nearer to it than to another photo's.
      expect(distance(copy, embedding)).toBeGreaterThan(0.1);
      expect(distance(copy, embedding)).toBeLessThan(distance(copy, strangerEmbedding));
    }
    expect(distance(copies[0]!, copies[1]!)).toBeGreaterThan(0.1);
  });

  it('keeps a model that finishes loading after the wait for it gave up', async () => {
    const slow = nodeEngine({ descriptor: MODELS[id], loadTimeoutMs: 1 });
    await expect(slow.ready()).rejects.toThrow(/Loading the model took longer than 1 ms, so Spotter stopped waiting/);
    expect(slow.status.state).toBe('failed');
    await expect.poll(() => slow.status.state, { timeout: 30_000 }).toBe('ready');
    // No second load: the late model is the one in use.
    const model = await slow.ready();
    expect(await slow.ready()).toBe(model);
  });

  it('uses a remembered backend without probing again', async () => {
    // A stand-in for the saved choice, as above (the real store: storage.test.ts).
    const second = nodeEngine({ descriptor: MODELS[id], memory: { recall: async () => 'wasm', remember: async () => undefined } });
    await second.ready();
    expect(second.status).toMatchObject({ state: 'ready', backend: 'wasm', probe: null });
  });

  it('fails with a clear message when the model cannot be read', async () => {
    const broken = nodeEngine({ descriptor: MODELS[id], model: { load: async () => Promise.reject(new Error('disk on fire')) } });
    await expect(broken.ready()).rejects.toThrow(/could not be loaded: disk on fire/);
    expect(broken.status).toMatchObject({ state: 'failed', error: 'disk on fire' });
  });
});

describe('the default backbone', () => {
  it('is MobileNet-EdgeTPU', () => {
    expect(DEFAULT_MODEL_ID).toBe('mobilenet-edgetpu');
    expect(nodeEngine().descriptor.id).toBe('mobilenet-edgetpu');
  });
});
