/**
 * A full disk, or a browser quota used up, while Spotter writes: every write path says so with
 * the 'storage-full' code and a plain message, and leaves the database exactly as it was.
 *
 * Stand-ins: IndexedDB comes from fake-indexeddb (Node has none; see storage.test.ts), and
 * fake-indexeddb never runs out of space, so `fillDiskAfter` below stands in for a full disk by
 * making write requests fail the way a browser's do when there is no room. The real thing (a quota
 * lowered through DevTools in Chromium) is in tests/e2e/storage-full.e2e.test.ts.
 */
import 'fake-indexeddb/auto';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import * as v from 'valibot';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrowserEngineHost } from '../../src/engine/browser-host';
import { toErrorInfo } from '../../src/shared/errors';
import { responseSchema, type TrainingState } from '../../src/shared/protocol';
import { closeDatabaseForTests, database, STORAGE_FULL_MESSAGE, storageError, type ExampleRecord, type HeadRecord } from '../../src/storage/database';
import { addExample, renameLabel } from '../../src/storage/dataset';
import { serializeDataset } from '../../src/storage/dataset-file';
import { loadHead, saveHead } from '../../src/storage/head-store';
import { stageImport, takeStagedImport } from '../../src/storage/import-staging';

/** fake-indexeddb's request queue, which the stand-in uses to make a request that fails as a browser's does. */
interface FakeTransaction {
  _execRequestAsync(request: { operation: () => unknown; source: unknown }): IDBRequest;
}

/**
 * Stands in for a full disk: after `allowed` more writes (put, add, a cursor's update), each
 * further write is a request that fails with a real QuotaExceededError DOMException, as a
 * browser's request does when storage is full: the request fires 'error' and, as nobody prevents
 * it, its transaction aborts with that error. (Chromium usually finds out at commit instead: the
 * transaction aborts with the same error as `transaction.error`; the e2e test meets that case.)
 * Returns the function that frees the disk again.
 */
function fillDiskAfter(allowed: number): () => void {
  let left = allowed;
  const quotaExceeded = () => new DOMException('The disk is full (a test stand-in).', 'QuotaExceededError');
  const failing = (store: IDBObjectStore): IDBRequest =>
    (store.transaction as unknown as FakeTransaction)._execRequestAsync({
      operation: () => {
        throw quotaExceeded();
      },
      source: store,
    });
  const { put, add } = IDBObjectStore.prototype;
  const { update } = IDBCursor.prototype;
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof put>) {
    return left-- > 0 ? put.apply(this, args) : failing(this);
  };
  IDBObjectStore.prototype.add = function (this: IDBObjectStore, ...args: Parameters<typeof add>) {
    return left-- > 0 ? add.apply(this, args) : failing(this);
  };
  IDBCursor.prototype.update = function (this: IDBCursor, ...args: Parameters<typeof update>) {
    if (left-- > 0) return update.apply(this, args);
    const source = this.source;
    return failing(source instanceof IDBIndex ? source.objectStore : (source as IDBObjectStore));
  };
  return () => {
    Object.assign(IDBObjectStore.prototype, { put, add });
    IDBCursor.prototype.update = update;
  };
}

let freeDisk: (() => void) | undefined;

beforeAll(async () => {
  await tf.setBackend('wasm');
});

afterEach(async () => {
  freeDisk?.();
  freeDisk = undefined;
  closeDatabaseForTests();
  await new Promise<void>((resolve) => {
    const request = indexedDB.deleteDatabase('spotter');
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
});

const embedding = (seed: number) => Float32Array.from({ length: 1280 }, (_, i) => Math.sin(seed * 1000 + i));
const example = (label: string, seed: number): Omit<ExampleRecord, 'id'> => ({
  label,
  embedding: embedding(seed),
  distortions: [embedding(seed + 100)],
  thumbnail: 'data:image/jpeg;base64,AAAA',
  imageUrl: `https://example.com/${seed}.jpg`,
  pageUrl: 'https://example.com/',
  createdAt: 1_700_000_000_000 + seed,
});

function fakeHead(labels: string[], trainedAt = 1): HeadRecord {
  return {
    head: { format: 'spotter-head@1', labels, modelTopology: { kind: 'test' }, weightSpecs: [], weightData: new Float32Array([trainedAt]).buffer },
    report: { accuracy: 1, perLabel: [], confusion: [], heldOut: 0, epochs: [], options: { epochs: 1, learningRate: 0.001, batchSize: 16, hiddenUnits: 0, patience: 5, validationSplit: 0.15 } },
    trainedAt,
  } as unknown as HeadRecord;
}

/** Everything in the database, every store with its keys: what "exactly as before" is compared on. */
async function contents() {
  const db = await database();
  const tx = db.transaction(['examples', 'features', 'heads', 'imports', 'settings']);
  const store = async (name: 'examples' | 'features' | 'heads' | 'imports' | 'settings') => ({ keys: await tx.objectStore(name).getAllKeys(), values: await tx.objectStore(name).getAll() });
  return { examples: await store('examples'), features: await store('features'), heads: await store('heads'), imports: await store('imports'), settings: await store('settings') };
}

/** A small dataset to start from: 3 tulips, 2 roses, a head. */
async function seed(): Promise<void> {
  for (const [i, label] of ['tulips', 'tulips', 'roses', 'tulips', 'roses'].entries()) await addExample(example(label, i + 1));
  await saveHead(fakeHead(['roses', 'tulips']));
}

/** The rejection `work` ends in, as the user would read it. */
async function failureOf(work: Promise<unknown>) {
  const thrown: unknown = await work.then(
    () => {
      throw new Error('expected the write to fail');
    },
    (error: unknown) => error,
  );
  return toErrorInfo(thrown);
}

const STORAGE_FULL = { code: 'storage-full', message: STORAGE_FULL_MESSAGE };

describe('a full disk', () => {
  it('is told from other failures by the browser\'s QuotaExceededError, and the protocol carries its code', () => {
    expect(toErrorInfo(storageError(new DOMException('The disk is full (a test stand-in).', 'QuotaExceededError')))).toEqual(STORAGE_FULL);
    const other = new DOMException('Something else.', 'DataError');
    expect(storageError(other)).toBe(other);
    expect(v.safeParse(responseSchema(v.unknown()), { ok: false, error: STORAGE_FULL }).success).toBe(true);
  });

  it('stops an import part-way through its examples, and the old dataset and model stay exactly as they were', async () => {
    await seed();
    // Without a model: the import would delete the stored one, which must stay too.
    const file = serializeDataset(
      [1, 2, 3, 4].map((i) => ({ ...example(i % 2 ? 'ants' : 'bees', 50 + i), id: i })),
      undefined,
    );
    // The real import path, as the popup takes it: the file is staged, then the engine host imports it.
    await stageImport(new Blob([file]));
    const before = await contents();
    // Room for the clear and 3 of the 8 writes (an example and its embeddings are two): the disk fills in the middle.
    freeDisk = fillDiskAfter(3);
    const host = new BrowserEngineHost((assetPath) => `file:///nowhere/${assetPath}`);
    expect(await failureOf(host.handle({ type: 'import-dataset' }))).toEqual(STORAGE_FULL);
    freeDisk();
    // The staged file was taken (the popup still holds it, to try again); nothing else changed.
    expect(await contents()).toEqual({ ...before, imports: { keys: [], values: [] } });
    expect((await loadHead())!.head.labels).toEqual(['roses', 'tulips']);
  });

  it('refuses to stage an import file it has no room for, changing nothing', async () => {
    await seed();
    const before = await contents();
    freeDisk = fillDiskAfter(0);
    expect(await failureOf(stageImport(new Blob(['{}'])))).toEqual(STORAGE_FULL);
    freeDisk();
    expect(await contents()).toEqual(before);
    expect(await takeStagedImport()).toBeUndefined();
  });

  it.each([
    ['a rename', 'tulip flowers'],
    ['a merge into another label', 'Roses'],
  ])('stops %s part-way, and no example moves', async (_name, to) => {
    await seed();
    const before = await contents();
    // The first of the three tulips is updated, the second meets the full disk.
    freeDisk = fillDiskAfter(1);
    expect(await failureOf(renameLabel('tulips', to))).toEqual(STORAGE_FULL);
    freeDisk();
    expect(await contents()).toEqual(before);
    // The same edit succeeds once there is room.
    expect(await renameLabel('tulips', to)).toBe(3);
  });

  it('keeps the old head when the new one cannot be saved', async () => {
    await seed();
    const before = await contents();
    freeDisk = fillDiskAfter(0);
    expect(await failureOf(saveHead(fakeHead(['roses', 'tulips', 'daisy'], 3)))).toEqual(STORAGE_FULL);
    freeDisk();
    expect(await contents()).toEqual(before);
  });

  it('fails a Retrain whose model cannot be saved with the message, keeping the old model', async () => {
    for (const [i, label] of ['ants', 'ants', 'ants', 'bees', 'bees', 'bees'].entries()) await addExample(example(label, i + 1));
    await saveHead(fakeHead(['ants', 'bees']));
    const before = await contents();
    const host = new BrowserEngineHost((assetPath) => `file:///nowhere/${assetPath}`);
    freeDisk = fillDiskAfter(0);
    await host.handle({ type: 'train', options: { epochs: 2 } });
    let state: TrainingState;
    for (;;) {
      state = await host.handle({ type: 'training-status' });
      if (state.phase !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    freeDisk();
    expect(state).toMatchObject({ phase: 'failed', error: STORAGE_FULL_MESSAGE });
    expect(await contents()).toEqual(before);
  });

  it('adds no half example: an example saved without its embeddings, or the reverse, cannot happen', async () => {
    await seed();
    const before = await contents();
    // The example's record is written, its embeddings meet the full disk.
    freeDisk = fillDiskAfter(1);
    expect(await failureOf(addExample(example('daisy', 9)))).toEqual(STORAGE_FULL);
    freeDisk();
    expect(await contents()).toEqual(before);
    await addExample(example('daisy', 9));
    await expect((await database()).getAll('examples').then((all) => all.map((e) => e.label))).resolves.toContain('daisy');
  });
});
