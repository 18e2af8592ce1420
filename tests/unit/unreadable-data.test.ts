/**
 * Data that no view can read must not lock the user out. An import refuses numbers that are not
 * finite anywhere in the file (JSON reads 1e309 as Infinity), and whatever is stored already that
 * an answer cannot carry is left out of the answer and counted, so that "Your labels" still offers
 * Export (of what is readable), Forget, Delete and Import. (fake-indexeddb; TF.js on WASM.)
 */
import 'fake-indexeddb/auto';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import * as v from 'valibot';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrowserEngineHost } from '../../src/engine/browser-host';
import { nonFinitePath } from '../../src/shared/finite';
import { RESULT_SCHEMAS, responseSchema } from '../../src/shared/protocol';
import { closeDatabaseForTests, database, type ExampleRecord, type HeadRecord } from '../../src/storage/database';
import { addExample, allExamples, examplesWithFeatures } from '../../src/storage/dataset';
import { exportableDataset, parseDataset, serializeDataset } from '../../src/storage/dataset-file';
import { loadHead, saveHead } from '../../src/storage/head-store';
import { stageImport, takeStagedImport } from '../../src/storage/import-staging';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

afterEach(async () => {
  closeDatabaseForTests();
  await new Promise<void>((resolve) => {
    const request = indexedDB.deleteDatabase('spotter');
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
});

const host = () => new BrowserEngineHost((path) => `file:///nowhere/${path}`);
const embedding = (seed: number) => Float32Array.from({ length: 1280 }, (_, i) => ((seed * 31 + i) % 7) * 0.1);
const example = (label: string, seed: number): Omit<ExampleRecord, 'id'> => ({
  label,
  embedding: embedding(seed),
  distortions: [embedding(seed + 100)],
  thumbnail: 'data:image/jpeg;base64,AAAA',
  imageUrl: `https://example.com/${label}/${seed}.jpg`,
  pageUrl: 'https://example.com/',
  createdAt: 1_700_000_000_000 + seed,
});

/** A head record of the right form (its weights a 1280 x 2 softmax layer, all zero). */
function headRecord(labels = ['ants', 'bees']): HeadRecord {
  const kernel = { name: 'dense/kernel', shape: [1280, labels.length], dtype: 'float32' as const };
  const bias = { name: 'dense/bias', shape: [labels.length], dtype: 'float32' as const };
  return {
    head: { format: 'spotter-head@1', labels, modelTopology: { class_name: 'Sequential', config: { layers: [] } }, weightSpecs: [kernel, bias], weightData: new Float32Array(1280 * labels.length + labels.length).buffer },
    report: {
      labels,
      ignoredLabels: {},
      epochs: [{ epoch: 1, loss: 0.5, accuracy: 0.9, valLoss: null, valAccuracy: null }],
      bestEpoch: 1,
      evaluatedOn: 'training',
      accuracy: 0.9,
      perLabelAccuracy: Object.fromEntries(labels.map((l) => [l, 0.9])),
      confusion: labels.map(() => labels.map(() => 1)),
      trainCount: 4,
      validationCount: 0,
      durationMs: 12,
      options: { epochs: 10, learningRate: 0.01, batchSize: 4, hiddenUnits: 0, dropoutRate: 0.2, l2: 0.3, patience: 5, seed: 1 },
    },
    trainedAt: 1_700_000_000_000,
  };
}

/** What the stored examples and head are, byte for byte (embeddings as bytes). */
async function snapshot(): Promise<string> {
  const db = await database();
  const bytes = (value: unknown): unknown => (value instanceof Float32Array ? Array.from(new Uint8Array(value.buffer)) : value instanceof ArrayBuffer ? Array.from(new Uint8Array(value)) : value);
  const replacer = (_key: string, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : bytes(value));
  return JSON.stringify({ examples: await db.getAll('examples'), features: await db.getAll('features'), head: await db.get('heads', 'current') }, replacer);
}

/** As the answer arrives where Chrome's messaging carries it (JSON), checked by the same schema as the popup checks it. */
function arrivesIntact(answer: unknown): boolean {
  const carried: unknown = JSON.parse(JSON.stringify({ ok: true, result: answer }));
  return v.safeParse(responseSchema(RESULT_SCHEMAS['list-dataset']), carried).success;
}

/** A valid export with `edit` applied to its JSON text, as a hand edit would. */
function editedExport(edit: (text: string) => string): string {
  const file = serializeDataset([{ ...example('ants', 1), id: 1 }, { ...example('bees', 2), id: 2 }], headRecord());
  const edited = edit(file);
  expect(edited).not.toBe(file);
  return edited;
}

describe('an imported file with a number that is not finite', () => {
  it.each([
    ['a date', (t: string) => t.replace('"createdAt":1700000000002', '"createdAt":1e309'), 'examples.1.createdAt'],
    ['the export date', (t: string) => t.replace(/"exportedAt":\d+/, '"exportedAt":-1e309'), 'exportedAt'],
    ['a report figure', (t: string) => t.replace('"accuracy":0.9,"perLabelAccuracy"', '"accuracy":1e999,"perLabelAccuracy"'), 'head.report.accuracy'],
    ['a confusion count', (t: string) => t.replace('"confusion":[[1,1]', '"confusion":[[1,1e309]'), 'head.report.confusion.0.1'],
    ['a per-label accuracy', (t: string) => t.replace('"perLabelAccuracy":{"ants":0.9', '"perLabelAccuracy":{"ants":1e309'), 'head.report.perLabelAccuracy.ants'],
    ['a weight shape', (t: string) => t.replace('"shape":[1280,2]', '"shape":[1e309,2]'), 'head.weightSpecs.0.shape.0'],
    ['the model topology', (t: string) => t.replace('"layers":[]', '"layers":[],"units":1e309'), 'head.modelTopology.config.units'],
    ['the training date', (t: string) => t.replace('"trainedAt":1700000000000', '"trainedAt":1e309'), 'head.trainedAt'],
  ])('is refused as damaged when it is %s, and changes nothing', async (_name, edit, where) => {
    await addExample(example('mine', 7));
    await saveHead(headRecord(['mine', 'yours']));
    const before = await snapshot();
    const text = editedExport(edit);
    const message = `This Spotter dataset is damaged (${where}: a number too large to use). Nothing was changed.`;
    expect(() => parseDataset(text)).toThrow(message);
    // Through the engine host, as the popup imports.
    await stageImport(new Blob([text]));
    await expect(host().handle({ type: 'import-dataset' })).rejects.toThrow(message);
    expect(await snapshot()).toBe(before);
    expect(await takeStagedImport()).toBeUndefined();
  });

  it('finds it however deep the file is nested, without overflowing the stack', () => {
    const deep = `${'['.repeat(200_000)}1e309${']'.repeat(200_000)}`;
    expect(nonFinitePath(JSON.parse(deep))).toBe(`${Array.from({ length: 200_000 }, () => '0').join('.').slice(0, 119)}…`);
    expect(nonFinitePath({ a: [1, 2, { b: 3 }], c: 'Infinity' })).toBeNull();
  });
});

describe('stored data that an answer cannot carry', () => {
  /** Writes a record as an older version or a damaged disk could have left it, around the checks. */
  async function storeRaw(meta: Record<string, unknown>, features: unknown): Promise<void> {
    const db = await database();
    const tx = db.transaction(['examples', 'features'], 'readwrite');
    const id = await tx.objectStore('examples').add(meta as never);
    if (features !== undefined) await tx.objectStore('features').put(features as never, id);
    await tx.done;
  }

  it('is left out of the list and counted, and the list still arrives', async () => {
    await addExample(example('ants', 1));
    await addExample(example('ants', 2));
    await addExample(example('bees', 3));
    const { embedding: e, distortions, ...meta } = example('bees', 4);
    await storeRaw({ ...meta, createdAt: Number.POSITIVE_INFINITY }, { embedding: e, distortions });
    await storeRaw({ ...meta, thumbnail: 42 }, { embedding: e });
    const answer = await host().handle({ type: 'list-dataset' });
    expect(arrivesIntact(answer)).toBe(true);
    expect(answer.labels.map((l) => [l.label, l.count])).toEqual([['ants', 2], ['bees', 1]]);
    expect(answer.unreadable).toEqual({ examples: 2, model: false });
  });

  it('says the model could not be read when its report or its weights are not numbers, and the list still arrives', async () => {
    await addExample(example('ants', 1));
    for (const damage of [
      (record: HeadRecord) => (record.report.accuracy = Number.POSITIVE_INFINITY),
      (record: HeadRecord) => (record.trainedAt = Number.NaN),
      (record: HeadRecord) => (new Float32Array(record.head.weightData)[5] = Number.NaN),
    ]) {
      const record = headRecord();
      damage(record);
      await saveHead(record);
      const answer = await host().handle({ type: 'list-dataset' });
      expect(arrivesIntact(answer)).toBe(true);
      expect(answer.head).toBeNull();
      expect(answer.unreadable).toEqual({ examples: 0, model: true });
    }
    await saveHead(headRecord());
    const answer = await host().handle({ type: 'list-dataset' });
    expect(answer.head?.labels).toEqual(['ants', 'bees']);
    expect(answer.unreadable).toEqual({ examples: 0, model: false });
  });

  it('is left out of an export, which imports again, and the export says what it left out', async () => {
    await addExample(example('ants', 1));
    await addExample(example('bees', 2));
    const { embedding: e, ...meta } = example('bees', 3);
    await storeRaw({ ...meta, createdAt: Number.POSITIVE_INFINITY }, { embedding: e });
    // Its embedding lost (a damaged database): allExamples, which training reads, refuses the lot.
    await storeRaw({ ...meta, createdAt: 5 }, undefined);
    const nan = embedding(4);
    nan[0] = Number.NaN;
    await storeRaw({ ...meta, createdAt: 6 }, { embedding: nan });
    await expect(allExamples()).rejects.toThrow(/lost the embedding/);
    const broken = headRecord();
    broken.report.confusion[0]![0] = Number.POSITIVE_INFINITY;
    await saveHead(broken);

    const read = await examplesWithFeatures();
    expect(read.missing).toBe(1);
    const exported = exportableDataset(read.examples, await loadHead());
    expect(exported.leftOut).toEqual({ examples: 2, model: true });
    const parsed = parseDataset(exported.text);
    expect(parsed.examples.map((x) => [x.label, x.createdAt])).toEqual([['ants', 1_700_000_000_001], ['bees', 1_700_000_000_002]]);
    expect(parsed.head).toBeNull();

    const readable = exportableDataset(read.examples.slice(0, 2), headRecord());
    expect(readable.leftOut).toEqual({ examples: 0, model: false });
    expect(parseDataset(readable.text).head?.head.labels).toEqual(['ants', 'bees']);
  });

  it('is all gone after "Delete everything", with the model, in one step', async () => {
    await addExample(example('ants', 1));
    const { embedding: e, ...meta } = example('bees', 3);
    await storeRaw({ ...meta, createdAt: Number.POSITIVE_INFINITY }, { embedding: e });
    await storeRaw({ ...meta, label: 17 }, { embedding: e });
    await saveHead(headRecord());
    const engine = host();
    expect(await engine.handle({ type: 'delete-all' })).toEqual({ examples: 3, model: true });
    const answer = await engine.handle({ type: 'list-dataset' });
    expect(answer).toEqual({ labels: [], head: null, unreadable: { examples: 0, model: false }, model: expect.stringMatching(/^mobilenet-/), otherModels: [] });
    expect(await (await database()).count('features')).toBe(0);
    expect(await loadHead()).toBeUndefined();
    expect(await engine.handle({ type: 'delete-all' })).toEqual({ examples: 0, model: false });
  });

  it('"Delete everything" waits for a training run: it would save a model for examples that are gone', async () => {
    for (const [index, label] of ['ants', 'bees'].entries()) for (let i = 0; i < 3; i++) await addExample(example(label, index * 10 + i));
    const engine = host();
    await engine.handle({ type: 'train', options: { epochs: 5 } });
    await expect(engine.handle({ type: 'delete-all' })).rejects.toThrow('Spotter is training a model right now. Try again when it has finished; nothing was deleted.');
    for (let s = await engine.handle({ type: 'training-status' }); s.phase === 'running'; s = await engine.handle({ type: 'training-status' })) await new Promise((r) => setTimeout(r, 20));
    expect((await allExamples()).length).toBe(6);
    expect(await engine.handle({ type: 'delete-all' })).toEqual({ examples: 6, model: true });
  });
});
