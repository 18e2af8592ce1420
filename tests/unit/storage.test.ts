/**
 * The storage module on IndexedDB. Node has no IndexedDB, so this uses fake-indexeddb, a
 * complete in-memory implementation of the spec (the only stand-in in this file; other unit
 * tests have their own, each said where it is, e.g. memory.test.ts fakes createImageBitmap and
 * the canvas, engine.test.ts the saved backend choice); the e2e suite exercises the real
 * IndexedDB in Chromium and Firefox.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { closeDatabaseForTests, database, type ExampleRecord } from '../../src/storage/database';
import { addExample, allExamples, deleteExample, deleteLabel, exampleList, labelNames, labelSummaries, normaliseLabel, renameLabel, replaceEverything } from '../../src/storage/dataset';
import { parseDataset, serializeDataset } from '../../src/storage/dataset-file';
import { loadHead, saveHead } from '../../src/storage/head-store';
import { storedBackendChoice } from '../../src/storage/backend-choice';
import type { HeadRecord } from '../../src/storage/database';
import { toErrorInfo } from '../../src/shared/errors';
import { BrowserEngineHost } from '../../src/engine/browser-host';
import { stageImport, takeStagedImport } from '../../src/storage/import-staging';

/** The parts of an exported file the damage cases below edit. */
interface DatasetJson {
  examples: { embedding: string; distortions?: string[] }[];
  head: { weightData: string; unknownRule?: { centroids: string } } | null;
}

const embedding = (seed: number) => Float32Array.from({ length: 1280 }, (_, i) => Math.sin(seed * 1000 + i));
const example = (label: string, seed: number): Omit<ExampleRecord, 'id'> => ({
  label,
  embedding: embedding(seed),
  thumbnail: 'data:image/jpeg;base64,AAAA',
  imageUrl: `https://example.com/${seed}.jpg`,
  pageUrl: 'https://example.com/',
  createdAt: 1_700_000_000_000 + seed,
});

afterEach(async () => {
  closeDatabaseForTests();
  await new Promise<void>((resolve) => {
    const request = indexedDB.deleteDatabase('spotter');
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
});

describe('examples', () => {
  it('round-trips an example, embedding and distorted copies bit for bit', async () => {
    const saved = await addExample({ ...example('tulips', 1), distortions: [embedding(11), embedding(12)] });
    expect(saved.id).toBeTypeOf('number');
    const [stored] = await allExamples();
    expect(stored!.label).toBe('tulips');
    expect(stored!.embedding).toBeInstanceOf(Float32Array);
    expect(Array.from(stored!.embedding)).toEqual(Array.from(embedding(1)));
    expect(stored!.distortions!.map((copy) => Array.from(copy))).toEqual([Array.from(embedding(11)), Array.from(embedding(12))]);
    expect(stored!.imageUrl).toBe('https://example.com/1.jpg');
  });

  it('normalises labels and refuses empty, overlong or reserved ones', async () => {
    expect(normaliseLabel('  red   roses ')).toBe('red roses');
    expect(() => normaliseLabel('   ')).toThrow(/at least one letter/);
    expect(() => normaliseLabel('x'.repeat(61))).toThrow(/at most 60/);
    expect(() => normaliseLabel('Unknown')).toThrow(/reserved/);
    // Reports are keyed by label; a checked record would silently drop these.
    for (const word of ['constructor', 'prototype', '__proto__']) expect(() => normaliseLabel(word)).toThrow(/JavaScript keeps that word/);
    expect(normaliseLabel('Constructor')).toBe('Constructor');
    await expect(addExample(example(' ', 2))).rejects.toThrow();
    expect(await allExamples()).toHaveLength(0);
  });

  it('counts per label, deletes, renames, merges and deletes labels', async () => {
    for (const [label, seed] of [['ants', 1], ['ants', 2], ['bees', 3], ['wasps', 4]] as const) await addExample(example(label, seed));
    expect(await labelSummaries()).toEqual([
      { label: 'ants', count: 2 },
      { label: 'bees', count: 1 },
      { label: 'wasps', count: 1 },
    ]);
    const first = (await allExamples()).find((e) => e.label === 'ants')!;
    await deleteExample(first.id!);
    expect(await renameLabel('ants', 'formicidae')).toBe(1);
    expect(await renameLabel('wasps', 'bees')).toBe(1); // merge
    await expect(renameLabel('nope', 'x')).rejects.toThrow(/no label "nope"/);
    expect(await labelSummaries()).toEqual([
      { label: 'bees', count: 2 },
      { label: 'formicidae', count: 1 },
    ]);
    expect(await deleteLabel('bees')).toBe(2);
    expect(await labelSummaries()).toEqual([{ label: 'formicidae', count: 1 }]);
  });

  it('joins a label typed in another letter case, and lets a rename change only the case', async () => {
    await addExample(example('tulips', 1));
    expect((await addExample(example('  TULIPS ', 2))).label).toBe('tulips');
    await addExample(example('Roses', 3));
    expect(await labelNames()).toEqual(['Roses', 'tulips']);
    // Onto another label in any case: a merge, under that label's spelling.
    expect(await renameLabel('Roses', 'TULIPS')).toBe(1);
    expect(await labelSummaries()).toEqual([{ label: 'tulips', count: 3 }]);
    // The same label in another case: a plain rename.
    expect(await renameLabel('tulips', 'Tulips')).toBe(3);
    expect(await labelNames()).toEqual(['Tulips']);
  });
});

describe('embeddings kept apart', () => {
  const featureCount = async () => (await database()).count('features');

  it('lists examples without their embeddings, and every edit keeps the two stores in step', async () => {
    for (const [label, seed] of [['ants', 1], ['ants', 2], ['bees', 3], ['wasps', 4]] as const) await addExample({ ...example(label, seed), distortions: [embedding(seed + 10)] });
    const listed = await exampleList();
    expect(listed.map((e) => e.label)).toEqual(['ants', 'ants', 'bees', 'wasps']);
    for (const entry of listed) expect(Object.keys(entry).sort()).toEqual(['createdAt', 'id', 'imageUrl', 'label', 'pageUrl', 'thumbnail']);
    expect(await featureCount()).toBe(4);
    await deleteExample(listed[0]!.id!);
    expect(await featureCount()).toBe(3);
    await renameLabel('wasps', 'bees');
    expect(await deleteLabel('bees')).toBe(2);
    expect(await featureCount()).toBe(1);
    const [left] = await allExamples();
    expect(left!.id).toBe(listed[1]!.id);
    expect(Array.from(left!.embedding)).toEqual(Array.from(embedding(2)));
    expect(Array.from(left!.distortions![0]!)).toEqual(Array.from(embedding(12)));
    await replaceEverything([example('moths', 5)], null);
    expect(await featureCount()).toBe(1);
    expect((await allExamples()).map((e) => [e.label, e.embedding[0]])).toEqual([['moths', embedding(5)[0]]]);
  });

  it('moves the embeddings out of examples saved by version 2 of the database, losing nothing', async () => {
    // The version-2 layout, written with the raw IndexedDB API as the previous release did.
    const old = [{ ...example('ants', 1), distortions: [embedding(11), embedding(12)] }, example('bees', 2)];
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.open('spotter', 2);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore('settings');
        db.createObjectStore('examples', { keyPath: 'id', autoIncrement: true }).createIndex('label', 'label');
        db.createObjectStore('heads');
        const store = request.transaction!.objectStore('examples');
        for (const record of old) store.add(record);
      };
      request.onsuccess = () => {
        request.result.close();
        resolve();
      };
      request.onerror = () => reject(request.error);
    });
    const listed = await exampleList();
    expect(listed.map((e) => [e.id, e.label, 'embedding' in e])).toEqual([[1, 'ants', false], [2, 'bees', false]]);
    const joined = await allExamples();
    expect(Array.from(joined[0]!.embedding)).toEqual(Array.from(embedding(1)));
    expect(joined[0]!.distortions!.map((copy) => Array.from(copy))).toEqual([Array.from(embedding(11)), Array.from(embedding(12))]);
    expect(Array.from(joined[1]!.embedding)).toEqual(Array.from(embedding(2)));
    expect(joined[1]!.distortions).toBeUndefined();
    expect(joined[1]!.thumbnail).toBe(old[1]!.thumbnail);
  });
});

/** A head as Spotter saves it now: with its unknown rule and a cross-validated report. */
const fakeHead = (labels: string[]): HeadRecord => ({
  head: {
    format: 'spotter-head@2',
    labels,
    modelTopology: { class_name: 'Sequential' },
    weightSpecs: [{ name: 'w', shape: [2], dtype: 'float32' }],
    weightData: new Float32Array([1.5, -2]).buffer,
    unknownRule: { threshold: 0.42, centroids: Float32Array.from({ length: labels.length * 1280 }, (_, i) => i / 1e4).buffer },
  },
  report: {
    labels,
    ignoredLabels: {},
    epochs: [{ epoch: 1, loss: 0.5, accuracy: 0.9, valLoss: 0.6, valAccuracy: 0.8 }],
    bestEpoch: 1,
    evaluatedOn: 'cross-validation',
    folds: 2,
    foldAccuracies: [0.75, 1],
    accuracy: 0.875,
    perLabelAccuracy: Object.fromEntries(labels.map((l) => [l, 0.9])),
    confusion: labels.map(() => labels.map(() => 1)),
    trainCount: 4,
    validationCount: 4,
    durationMs: 12,
    options: { epochs: 10, learningRate: 0.01, batchSize: 4, hiddenUnits: 0, dropoutRate: 0.2, l2: 0.3, patience: 5, seed: 1 },
  },
  trainedAt: 1_700_000_000_000,
});

/** A head as Spotter saved it before the unknown rule and cross-validation: no centroids, one held-out split, options since removed. */
const olderHead = (labels: string[]): HeadRecord => {
  const { head, report, trainedAt } = fakeHead(labels);
  const { unknownRule: _, ...weights } = head as Extract<HeadRecord['head'], { format: 'spotter-head@2' }>;
  const { folds: _folds, foldAccuracies: _accuracies, ...rest } = report;
  const options = { ...report.options, validationFraction: 0.15, refitOnAll: true } as HeadRecord['report']['options'];
  return { head: { ...weights, format: 'spotter-head@1' }, report: { ...rest, evaluatedOn: 'validation', trainCount: 3, validationCount: 1, options }, trainedAt };
};

describe('head store', () => {
  it('keeps one head and replaces it in one write', async () => {
    expect(await loadHead()).toBeUndefined();
    await saveHead(fakeHead(['a', 'b']));
    await saveHead(fakeHead(['c', 'd']));
    const head = await loadHead();
    expect(head!.head.labels).toEqual(['c', 'd']);
    expect(Array.from(new Float32Array(head!.head.weightData))).toEqual([1.5, -2]);
  });
});

describe('backend choice', () => {
  it('is recalled only for the same machine fingerprint', async () => {
    await storedBackendChoice.remember('chrome 156 | SwiftShader', 'wasm', [{ backend: 'wasm', ms: 20 }]);
    expect(await storedBackendChoice.recall('chrome 156 | SwiftShader')).toBe('wasm');
    expect(await storedBackendChoice.recall('chrome 157 | NVIDIA')).toBeUndefined();
  });
});

describe('dataset file', () => {
  it('exports and imports everything, bit for bit', async () => {
    // The second example has no distorted copies, as examples saved by older versions.
    const examples = [{ ...example('ants', 1), distortions: [embedding(11)] }, example('bees', 2)];
    const text = serializeDataset(examples.map((e, i) => ({ ...e, id: i + 1 })), fakeHead(['ants', 'bees']));
    const parsed = parseDataset(text);
    expect(parsed.examples.map((e) => e.label)).toEqual(['ants', 'bees']);
    expect(Array.from(parsed.examples[1]!.embedding)).toEqual(Array.from(embedding(2)));
    expect(parsed.examples[0]!.distortions!.map((copy) => Array.from(copy))).toEqual([Array.from(embedding(11))]);
    expect(parsed.examples[1]!.distortions).toBeUndefined();
    expect(parsed.head!.head.labels).toEqual(['ants', 'bees']);
    expect(Array.from(new Float32Array(parsed.head!.head.weightData))).toEqual([1.5, -2]);
    // The unknown rule and the cross-validated report travel with the head.
    const saved = fakeHead(['ants', 'bees']);
    expect(parsed.head!.head.format).toBe('spotter-head@2');
    const rule = (parsed.head!.head as Extract<HeadRecord['head'], { format: 'spotter-head@2' }>).unknownRule;
    expect(rule.threshold).toBe(0.42);
    expect(Array.from(new Float32Array(rule.centroids))).toEqual(Array.from(new Float32Array((saved.head as Extract<HeadRecord['head'], { format: 'spotter-head@2' }>).unknownRule.centroids)));
    expect(parsed.head!.report).toEqual(saved.report);
    await replaceEverything(parsed.examples, parsed.head);
    expect((await allExamples()).map((e) => e.label)).toEqual(['ants', 'bees']);
    expect((await loadHead())!.head.labels).toEqual(['ants', 'bees']);
  });

  it('imports a file from before the unknown rule and cross-validation: its head has no centroids and its report one held-out split', async () => {
    const text = serializeDataset([{ ...example('ants', 1), id: 1 }, { ...example('bees', 2), id: 2 }], olderHead(['ants', 'bees']));
    expect(JSON.parse(text).head.unknownRule).toBeUndefined();
    const parsed = parseDataset(text);
    expect(parsed.head!.head.format).toBe('spotter-head@1');
    expect(parsed.head!.report).toMatchObject({ evaluatedOn: 'validation', trainCount: 3, validationCount: 1 });
    // Options Spotter no longer has are dropped, the others kept.
    expect(parsed.head!.report.options).toEqual(fakeHead(['ants', 'bees']).report.options);
  });

  it('refuses a file whose labels Spotter would not accept, and changes nothing', async () => {
    await addExample(example('mine', 7));
    await saveHead(fakeHead(['mine', 'yours']));
    const withLabel = (label: string) => serializeDataset([{ ...example('ants', 1), id: 1 }, { ...example(label, 2), id: 2 }], undefined);
    expect(() => parseDataset(withLabel('Unknown'))).toThrow('This Spotter dataset is damaged (example 2, label "Unknown": "unknown" is reserved for images Spotter is unsure about.). Nothing was changed.');
    expect(() => parseDataset(withLabel('x'.repeat(61)))).toThrow(/damaged \(examples\.1\.label: .*\)\. Nothing was changed\./);
    const withHeadLabels = (labels: string[]) => serializeDataset([{ ...example('ants', 1), id: 1 }], fakeHead(labels));
    expect(() => parseDataset(withHeadLabels(['ants', 'x'.repeat(61)]))).toThrow(/the model's label 2, "x+": Labels are at most 60 characters/);
    expect(() => parseDataset(withHeadLabels(['ants', 'ants ']))).toThrow(/names a label twice/);
    const nan = embedding(3);
    nan[5] = Number.NaN;
    expect(() => parseDataset(serializeDataset([{ ...example('ants', 3), embedding: nan, id: 1 }], undefined))).toThrow(/not a number/);
    // Even past the parser, an import that fails half-way leaves the old data in place.
    await expect(replaceEverything([example('ants', 1), example('unknown', 2)], null)).rejects.toThrow(/reserved/);
    const duplicateId = [{ ...example('ants', 1), id: 5 }, { ...example('bees', 2), id: 5 }] as unknown as Omit<ExampleRecord, 'id'>[];
    await expect(replaceEverything(duplicateId, null)).rejects.toThrow();
    expect((await allExamples()).map((e) => e.label)).toEqual(['mine']);
    expect((await loadHead())!.head.labels).toEqual(['mine', 'yours']);
  });

  it.each([
    ['not JSON', 'hello', /not JSON/],
    ['a foreign JSON file', JSON.stringify({ name: 'my-package', version: '1.0.0' }), /not a Spotter dataset/],
    ['a damaged embedding', JSON.stringify({ format: 'spotter-dataset@1', exportedAt: 1, head: null, examples: [{ ...example('a', 1), embedding: 'AAAA' }] }), /damaged/],
    ['a damaged distorted copy', JSON.stringify({ format: 'spotter-dataset@1', exportedAt: 1, head: null, examples: [{ ...example('a', 1), embedding: 'A'.repeat(6828), distortions: ['AAAA'] }] }), /damaged/],
    ['a missing field', JSON.stringify({ format: 'spotter-dataset@1', exportedAt: 1, head: null }), /damaged/],
  ])('rejects %s with a clear message', (_name, text, message) => {
    expect(() => parseDataset(text)).toThrow(message);
  });

  // The text has the right length for 1280 floats, but its padding makes it decode to 5121 or 5119 bytes.
  it.each([
    ['an embedding without padding', (file: DatasetJson) => (file.examples[0]!.embedding = 'A'.repeat(6828)), /damaged \(an embedding has the wrong size\)/],
    ['an embedding padded with ==', (file: DatasetJson) => (file.examples[0]!.embedding = `${'A'.repeat(6826)}==`), /damaged \(an embedding has the wrong size\)/],
    ['a distorted copy without padding', (file: DatasetJson) => (file.examples[0]!.distortions = ['A'.repeat(6828)]), /damaged \(an embedding has the wrong size\)/],
    ["model weights that atob refuses", (file: DatasetJson) => (file.head!.weightData = 'AAAAA'), /damaged \(the model's weights: not valid base64\)/],
    ["unknown-rule centroids that atob refuses", (file: DatasetJson) => (file.head!.unknownRule!.centroids = 'AAAAA'), /damaged \(the model's unknown rule: not valid base64\)/],
    ['unknown-rule centroids of the wrong size', (file: DatasetJson) => (file.head!.unknownRule!.centroids = 'AAAA'), /cannot be loaded \(.*centroids have 3 bytes, expected 10240/],
  ])('rejects %s as damaged, changing nothing', async (_name, damage, message) => {
    await addExample(example('mine', 7));
    await saveHead(fakeHead(['mine', 'yours']));
    const file = JSON.parse(serializeDataset([{ ...example('ants', 1), id: 1 }], fakeHead(['ants', 'bees']))) as DatasetJson;
    damage(file);
    // The real import path, as the popup takes it: the file is staged in the database, then the engine host imports it.
    await stageImport(new Blob([JSON.stringify(file)]));
    const host = new BrowserEngineHost((assetPath) => `file:///nowhere/${assetPath}`);
    const thrown: unknown = await host.handle({ type: 'import-dataset' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    // A SpotterError, so the user reads this message rather than "Spotter hit an internal error".
    expect(toErrorInfo(thrown)).toEqual({ code: 'bad-message', message: expect.stringMatching(message) as string });
    expect(toErrorInfo(thrown).message).toMatch(/Nothing was changed\.$/);
    expect((await allExamples()).map((e) => e.label)).toEqual(['mine']);
    expect((await loadHead())!.head.labels).toEqual(['mine', 'yours']);
    // Nor is the damaged file left waiting to be imported.
    expect(await takeStagedImport()).toBeUndefined();
  });
});
