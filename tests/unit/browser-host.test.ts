/**
 * The engine host's training and import rules, in Node: training needs no model or image, only
 * storage (fake-indexeddb, as in storage.test.ts) and TF.js.
 */
import 'fake-indexeddb/auto';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BrowserEngineHost, storedUrl, userPrediction } from '../../src/engine/browser-host';
import type { TrainingState } from '../../src/shared/protocol';
import { closeDatabaseForTests } from '../../src/storage/database';
import { addExample } from '../../src/storage/dataset';
import { serializeDataset } from '../../src/storage/dataset-file';
import { loadHead } from '../../src/storage/head-store';
import { stageImport, takeStagedImport } from '../../src/storage/import-staging';

/**
 * Runs, when set, as a training run starts: after the host has read the examples, before the
 * first epoch. Not a stand-in: the real trainHead runs; this only gives a test a fixed point in the run.
 */
let beforeTraining: (() => Promise<void>) | undefined;
vi.mock(import('../../src/engine/head'), async (importOriginal) => {
  const head = await importOriginal();
  return {
    ...head,
    trainHead: async (...args: Parameters<typeof head.trainHead>) => {
      await beforeTraining?.();
      return head.trainHead(...args);
    },
  };
});

beforeAll(async () => {
  await tf.setBackend('wasm');
});

afterEach(async () => {
  beforeTraining = undefined;
  closeDatabaseForTests();
  await new Promise<void>((resolve) => {
    const request = indexedDB.deleteDatabase('spotter');
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
});

/** Two well separated labels of `count` examples each. */
async function storeExamples(labels: string[], count: number): Promise<void> {
  for (const [index, label] of labels.entries()) {
    for (let i = 0; i < count; i++) {
      const embedding = Float32Array.from({ length: 1280 }, (_, j) => (j % labels.length === index ? 1 : 0) + ((i * 7 + j) % 5) * 0.01);
      await addExample({ label, embedding, thumbnail: 'data:image/jpeg;base64,AAAA', imageUrl: `https://example.com/${label}/${i}.jpg`, pageUrl: 'https://example.com/', createdAt: i });
    }
  }
}

async function finished(host: BrowserEngineHost): Promise<TrainingState> {
  for (;;) {
    const state = await host.handle({ type: 'training-status' });
    if (state.phase !== 'running') return state;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('BrowserEngineHost training', () => {
  it('runs one training at a time: a second Retrain at once joins the first', async () => {
    await storeExamples(['ants', 'bees'], 6);
    const host = new BrowserEngineHost((path) => `file:///nowhere/${path}`);
    // Different options, so a second run that started anyway would show.
    const [first, second] = await Promise.all([host.handle({ type: 'train', options: { epochs: 12, patience: 12 } }), host.handle({ type: 'train', options: { epochs: 3 } })]);
    expect(first.phase).toBe('running');
    expect(second).toMatchObject({ phase: 'running', maxEpochs: 12, startedAt: first.startedAt });
    const done = await finished(host);
    expect(done.phase).toBe('done');
    expect(done.report!.options.epochs).toBe(12);
    expect(done.epochs).toHaveLength(12);
    // One run's epochs, each once and in order (two interleaved runs would give 1, 1, 2, 2, …).
    expect(done.epochs.map((log) => log.epoch)).toEqual(done.epochs.map((_, i) => i + 1));
    expect((await loadHead())!.head.labels).toEqual(['ants', 'bees']);
  });

  it('refuses an import while training, changing nothing, and accepts it afterwards', async () => {
    await storeExamples(['ants', 'bees'], 6);
    const host = new BrowserEngineHost((path) => `file:///nowhere/${path}`);
    const file = serializeDataset(
      [0, 1, 2, 3].map((i) => ({ id: i + 1, label: i < 2 ? 'cats' : 'dogs', embedding: new Float32Array(1280).fill(i), thumbnail: 'data:image/jpeg;base64,AAAA', imageUrl: 'x', pageUrl: 'y', createdAt: i })),
      undefined,
    );
    await host.handle({ type: 'train', options: { epochs: 12 } });
    await stageImport(new Blob([file]));
    await expect(host.handle({ type: 'import-dataset' })).rejects.toThrow(/training a model right now.*nothing was changed/);
    expect((await finished(host)).phase).toBe('done');
    expect((await host.handle({ type: 'list-dataset' })).labels.map((l) => l.label)).toEqual(['ants', 'bees']);
    // A refused import leaves no file behind: asking again without choosing it again says so.
    await expect(host.handle({ type: 'import-dataset' })).rejects.toThrow('There is no file to import: choose it again.');

    await stageImport(new Blob([file]));
    expect(await host.handle({ type: 'import-dataset' })).toEqual({ examples: 4, labels: 2, head: false });
    expect(await takeStagedImport()).toBeUndefined();
    expect((await host.handle({ type: 'list-dataset' })).labels.map((l) => l.label)).toEqual(['cats', 'dogs']);
    expect(await loadHead()).toBeUndefined();
    expect((await host.handle({ type: 'training-status' })).phase).toBe('idle');
  });

  it('forgets the model on request, keeping the examples', async () => {
    await storeExamples(['ants', 'bees'], 6);
    const host = new BrowserEngineHost((path) => `file:///nowhere/${path}`);
    await host.handle({ type: 'train', options: { epochs: 5 } });
    await expect(host.handle({ type: 'forget-model' })).rejects.toThrow(/training a model right now/);
    await finished(host);
    expect((await host.handle({ type: 'list-dataset' })).head?.labels).toEqual(['ants', 'bees']);
    expect(await host.handle({ type: 'forget-model' })).toEqual({ forgotten: true });
    expect(await loadHead()).toBeUndefined();
    const dataset = await host.handle({ type: 'list-dataset' });
    expect(dataset.head).toBeNull();
    expect(dataset.labels.map((l) => l.count)).toEqual([6, 6]);
    expect(await host.handle({ type: 'forget-model' })).toEqual({ forgotten: false });
    await expect(host.handle({ type: 'export-head' })).rejects.toThrow(/no trained model yet/);
  });

  it('dates the model from when it read the examples, so one added during the training counts as newer', async () => {
    await storeExamples(['ants', 'bees'], 6);
    const host = new BrowserEngineHost((path) => `file:///nowhere/${path}`);
    let added: { createdAt: number } | undefined;
    // Added while the run is going on, after it has read its examples (it is training on them next).
    beforeTraining = async () => {
      const state = await host.handle({ type: 'training-status' });
      expect(state).toMatchObject({ phase: 'running', epochs: [] });
      // A clock tick later than the run's start, as any real addition is: the same millisecond would not tell.
      while (Date.now() <= state.startedAt!) await new Promise((resolve) => setTimeout(resolve, 1));
      added = await addExample({ label: 'ants', embedding: new Float32Array(1280).fill(1), thumbnail: 'data:image/jpeg;base64,AAAA', imageUrl: 'https://example.com/late.jpg', pageUrl: 'https://example.com/', createdAt: Date.now() });
    };
    await host.handle({ type: 'train', options: { epochs: 30, patience: 30 } });
    const done = await finished(host);
    expect(done.phase).toBe('done');
    expect(added).toBeDefined();
    // The run used the 2 x 6 examples it had read, not the one added meanwhile.
    expect(done.report!.trainCount).toBe(2 * 6);
    const head = (await host.handle({ type: 'list-dataset' })).head!;
    expect(head.trainedAt).toBe(done.startedAt);
    expect(head.trainedAt).toBeLessThan(added!.createdAt);
    expect((await loadHead())!.trainedAt).toBe(head.trainedAt);
  });

  it('says what is missing and keeps the last result when there is too little to train on', async () => {
    await storeExamples(['ants'], 3);
    const host = new BrowserEngineHost((path) => `file:///nowhere/${path}`);
    await expect(host.handle({ type: 'train', options: {} })).rejects.toThrow('Add at least 2 examples to each of at least 2 labels (now: ants 3).');
    expect((await host.handle({ type: 'training-status' })).phase).toBe('idle');
  });
});

describe("predictions with the user's labels", () => {
  const scores = [{ label: 'tulips', probability: 0.29 }, ...['daisy', 'roses', 'dandelion', 'sunflowers'].map((label, i) => ({ label, probability: 0.18 - i * 0.001 }))];

  it("passes the head's unknown on, keeping the best guess first, and the top 3 only", () => {
    const unsure = userPrediction({ scores, unknown: true });
    expect(unsure.unknown).toBe(true);
    expect(unsure.labels.map((l) => l.label)).toEqual(['tulips', 'daisy', 'roses']);
    const sure = userPrediction({ scores, unknown: false });
    expect(sure.unknown).toBe(false);
    expect(sure.labels[0]).toEqual({ label: 'tulips', probability: 0.29 });
  });
});

describe('where an example came from', () => {
  it('refuses a screen area: only the background reads the screen, and hands the engine a picture', async () => {
    const host = new BrowserEngineHost((path) => `file:///nowhere/${path}`);
    const screen = { left: 0, top: 0, width: 100, height: 100, viewportWidth: 800 };
    await expect(host.handle({ type: 'classify-image', source: { screen } })).rejects.toThrow(/screen areas go through the background/);
    await expect(host.handle({ type: 'add-example', source: { screen }, label: 'cat', pageUrl: 'https://a/' })).rejects.toThrow(/screen areas go through the background/);
    await expect(host.handle({ type: 'read-from-screen', tabId: 1, imageId: 'k-1' })).rejects.toThrow(/Only the background reads the screen/);
  });

  it('keeps addresses without their query or fragment, which can hold tokens', () => {
    expect(storedUrl('https://cdn.example.com/p/a.jpg?X-Amz-Signature=abc&token=1#x')).toBe('https://cdn.example.com/p/a.jpg');
    expect(storedUrl('https://mail.example.com/inbox?session=secret')).toBe('https://mail.example.com/inbox');
    expect(storedUrl('file:///home/me/album/a.jpg')).toBe('file:///home/me/album/a.jpg');
    expect(storedUrl('data:image/png;base64,AAAA')).toBe('data: URL');
    expect(storedUrl('file: tulips/a.jpg')).toBe('file: tulips/a.jpg');
  });
});
