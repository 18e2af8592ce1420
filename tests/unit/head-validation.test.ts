/**
 * A saved or imported head is checked before it replaces anything: its weights must be finite
 * numbers in the shapes its model has, and it must predict probabilities. A head that fails at
 * load does not break classification. (Node, WASM, the real TF.js head; storage on fake-indexeddb.)
 */
import 'fake-indexeddb/auto';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrowserEngineHost, userPredictionOf } from '../../src/engine/browser-host';
import { DEFAULT_MODEL_ID } from '../../src/shared/models';
import { EMBEDDING_SIZE, trainHead, UserHead, type SerializedHead } from '../../src/engine/head';
import { weightValuesProblem } from '../../src/engine/head-weights';
import { closeDatabaseForTests } from '../../src/storage/database';
import { addExample } from '../../src/storage/dataset';
import { allExamples } from '../../src/storage/dataset';
import { serializeDataset } from '../../src/storage/dataset-file';
import { loadHead, saveHead } from '../../src/storage/head-store';
import { stageImport } from '../../src/storage/import-staging';

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

const embeddingOf = (label: number, i: number) => Float32Array.from({ length: EMBEDDING_SIZE }, (_, j) => (j % 2 === label ? 1 : 0) + ((i + j) % 3) * 0.01);

/** A real trained head, serialised as Spotter stores it. */
async function trainedHead(): Promise<{ serialized: SerializedHead; report: Awaited<ReturnType<typeof trainHead>>['report'] }> {
  const examples = ['ants', 'bees'].flatMap((label, index) => [0, 1, 2].map((i) => ({ label, embedding: embeddingOf(index, i) })));
  const { head, report } = await trainHead(examples, { epochs: 3 });
  try {
    return { serialized: await head.serialize(), report };
  } finally {
    head.dispose();
  }
}

/** A copy of the head with its weights changed by `edit` (on the float32 values, in manifest order). */
function withWeights(head: SerializedHead, edit: (values: Float32Array) => void): SerializedHead {
  const weightData = head.weightData.slice(0);
  edit(new Float32Array(weightData));
  return { ...head, weightData };
}

/** The rebuilt head's failure, as the user reads it. */
async function refusal(head: SerializedHead): Promise<string> {
  const tensors = tf.memory().numTensors;
  const error = await UserHead.deserialize(head).then(
    (built) => {
      built.dispose();
      return null;
    },
    (e: unknown) => e,
  );
  // A refused head leaves no tensors behind.
  expect(tf.memory().numTensors).toBe(tensors);
  return error instanceof Error ? error.message : 'accepted';
}

describe('a head is checked before it is used', () => {
  it('accepts a real trained head, which predicts probabilities', async () => {
    const { serialized } = await trainedHead();
    const head = await UserHead.deserialize(serialized);
    try {
      const [scores] = await head.predictMany([embeddingOf(1, 4)]);
      expect(scores![0]!.label).toBe('bees');
      expect(scores!.reduce((sum, s) => sum + s.probability, 0)).toBeCloseTo(1, 5);
    } finally {
      head.dispose();
    }
  });

  it.each([
    ['NaN', Number.NaN, 'NaN'],
    ['infinity', Number.POSITIVE_INFINITY, 'Infinity'],
    ['minus infinity', Number.NEGATIVE_INFINITY, '-Infinity'],
  ])('refuses a weight that is %s, naming it', async (_name, value, shown) => {
    const { serialized } = await trainedHead();
    const kernel = serialized.weightSpecs[0]!;
    expect(await refusal(withWeights(serialized, (values) => (values[17] = value)))).toBe(
      `The saved head cannot be used: its weight "${kernel.name}" holds a value that is not a finite number (${shown}, value 18 of ${kernel.shape.reduce((a, b) => a * b, 1)}).`,
    );
    // In the bias (the second weight) too.
    const bias = serialized.weightSpecs[1]!;
    const kernelSize = kernel.shape.reduce((a, b) => a * b, 1);
    expect(await refusal(withWeights(serialized, (values) => (values[kernelSize + 1] = value)))).toContain(`its weight "${bias.name}" holds a value that is not a finite number (${shown}, value 2 of 2)`);
  });

  it('refuses finite weights so large that the head predicts no probabilities', async () => {
    const { serialized } = await trainedHead();
    expect(await refusal(withWeights(serialized, (values) => values.fill(3e38, 0, 1280)))).toBe(
      'The saved head cannot be used: it gave NaN on a test input, not a probability.',
    );
  });

  it('refuses a head whose last layer gives scores, not probabilities', async () => {
    const { serialized } = await trainedHead();
    const topology = JSON.parse(JSON.stringify(serialized.modelTopology).replace('"softmax"', '"linear"')) as object;
    expect(await refusal({ ...serialized, modelTopology: topology })).toMatch(/^The saved head cannot be used: (it gave -?\d\S* on a test input, not a probability|its predictions on a test input add up to \S+, not 1)\.$/);
  });

  it('refuses weights in shapes its model does not have', async () => {
    const { serialized } = await trainedHead();
    // The kernel said to be 640 x 4 (as many values): the model's is 1280 x 2.
    const weightSpecs = serialized.weightSpecs.map((spec, i) => (i === 0 ? { ...spec, shape: [640, 4] } : spec));
    expect(await refusal({ ...serialized, weightSpecs })).toMatch(/^The saved head cannot be used: TF\.js could not rebuild it \(.*shape/i);
  });

  it('checks quantized and float16 weights too', () => {
    const float16 = new Uint16Array([0x3c00, 0x7c00]); // 1, then infinity
    expect(weightValuesProblem([{ name: 'w', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } }], float16.buffer)).toBe('its weight "w" holds a value that is not a finite number (float16 infinity or NaN, value 2 of 2)');
    expect(weightValuesProblem([{ name: 'w', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', min: 0, scale: Number.NaN } }], new Uint8Array(2).buffer)).toBe('its weight "w" has a quantization that is not finite numbers');
    expect(weightValuesProblem([{ name: 'w', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', min: -1, scale: 0.01 } }], new Uint8Array(2).buffer)).toBeNull();
    expect(weightValuesProblem([{ name: 'w', shape: [2], dtype: 'int32' }], new Int32Array(2).buffer)).toBeNull();
  });
});

describe('a stored head that cannot be used', () => {
  async function storeBrokenHead(): Promise<void> {
    const { serialized, report } = await trainedHead();
    // Trained for the backbone the host runs (no examples, no choice: the default).
    await saveHead({ model: DEFAULT_MODEL_ID, head: withWeights(serialized, (values) => (values[3] = Number.NaN)), report, trainedAt: 1 });
  }

  it('is skipped in classifications, with a note', async () => {
    await expect(userPredictionOf(null, 'its weight "w" holds a value that is not a finite number', new Float32Array(EMBEDDING_SIZE))).resolves.toEqual({
      user: null,
      notice: `Your trained model is damaged, so only ImageNet's labels are shown. Retrain it, or forget it under "Your labels" in Spotter's popup.`,
    });
    await expect(userPredictionOf(null, null, new Float32Array(EMBEDDING_SIZE))).resolves.toEqual({ user: null });
  });

  it('gives no user labels, with the same note, where a head predicts no probabilities for an image', async () => {
    const { serialized } = await trainedHead();
    const head = await UserHead.deserialize(serialized);
    try {
      // Far past any embedding MobileNet gives (its values lie in [0, 6]): the logits overflow.
      await expect(userPredictionOf(head, null, new Float32Array(EMBEDDING_SIZE).fill(3e38))).resolves.toEqual({
        user: null,
        notice: `Your trained model is damaged, so only ImageNet's labels are shown. Retrain it, or forget it under "Your labels" in Spotter's popup.`,
      });
      expect((await userPredictionOf(head, null, embeddingOf(0, 1))).user?.labels[0]?.label).toBe('ants');
    } finally {
      head.dispose();
    }
  });

  it('is said to be damaged on export, and is gone after Forget', async () => {
    await storeBrokenHead();
    const host = new BrowserEngineHost((path) => `file:///nowhere/${path}`);
    await expect(host.handle({ type: 'export-head' })).rejects.toThrow('Your trained model is damaged and cannot be exported. Retrain it, or forget it under "Your labels".');
    expect(await host.handle({ type: 'forget-model' })).toEqual({ forgotten: true });
    expect(await loadHead()).toBeUndefined();
    await expect(host.handle({ type: 'export-head' })).rejects.toThrow(/no trained model yet/);
  });

  it('does not stop a retrain, whose head replaces it', async () => {
    await storeBrokenHead();
    for (const [index, label] of ['ants', 'bees'].entries()) {
      for (let i = 0; i < 3; i++) await addExample({ label, embedding: embeddingOf(index, i), thumbnail: 'data:image/jpeg;base64,AAAA', imageUrl: 'x', pageUrl: 'y', createdAt: i });
    }
    const host = new BrowserEngineHost((path) => `file:///nowhere/${path}`);
    await host.handle({ type: 'train', options: { epochs: 3 } });
    for (let state = await host.handle({ type: 'training-status' }); state.phase === 'running'; state = await host.handle({ type: 'training-status' })) await new Promise((resolve) => setTimeout(resolve, 20));
    const files = await host.handle({ type: 'export-head' });
    expect(JSON.parse(files.labelsJson)).toEqual(['ants', 'bees']);
  });
});

describe('an imported file whose model cannot be used', () => {
  /** Imports `head` with two examples through the engine host, as the popup does; returns the refusal. */
  async function importWith(head: SerializedHead, report: Awaited<ReturnType<typeof trainHead>>['report']): Promise<string> {
    await addExample({ label: 'mine', embedding: embeddingOf(0, 9), thumbnail: 'data:image/jpeg;base64,AAAA', imageUrl: 'x', pageUrl: 'y', createdAt: 5 });
    const examples = ['ants', 'bees'].map((label, i) => ({ id: i + 1, label, embedding: embeddingOf(i, 0), thumbnail: 'data:image/jpeg;base64,AAAA', imageUrl: 'x', pageUrl: 'y', createdAt: i }));
    await stageImport(new Blob([serializeDataset(examples, { head, report, trainedAt: 1 })]));
    const host = new BrowserEngineHost((path) => `file:///nowhere/${path}`);
    const message = await host.handle({ type: 'import-dataset' }).then(
      () => 'imported',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    // Nothing was replaced.
    expect((await allExamples()).map((e) => e.label)).toEqual(['mine']);
    expect(await loadHead()).toBeUndefined();
    return message;
  }

  it('is refused when a weight is NaN, as a damaged file', async () => {
    const { serialized, report } = await trainedHead();
    const message = await importWith(withWeights(serialized, (values) => (values[0] = Number.NaN)), report);
    expect(message).toBe(`This Spotter dataset is damaged (the model: its weight "${serialized.weightSpecs[0]!.name}" holds a value that is not a finite number (NaN, value 1 of 2560)). Nothing was changed.`);
  });

  it('is refused when it predicts no probabilities', async () => {
    const { serialized, report } = await trainedHead();
    const message = await importWith(withWeights(serialized, (values) => values.fill(3e38, 0, 1280)), report);
    expect(message).toBe('The model in this file cannot be loaded (it gave NaN on a test input, not a probability). Nothing was changed.');
  });
});
