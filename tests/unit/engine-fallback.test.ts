/**
 * A backend can pass the probe and still fail the model (on a GPU, a shader it cannot compile).
 * Here the CPU backend is made to lack the fused convolution kernels MobileNet's graph uses, while
 * the probe's plain convolutions still run on it: the real model then fails to load there.
 * (Its own file: vitest gives each file a fresh TF.js, and this one removes kernels and backends.)
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendMemory, BackendName } from '../../src/engine/backend';
import { nodeEngine } from '../support/engine';
import { decodeJpeg, labelledPhotos } from '../support/photos';

const FUSED_KERNELS = ['FusedConv2D', 'FusedDepthwiseConv2D'];

describe('the engine falls back when the model fails on the chosen backend', () => {
  const removed = tf.getKernelsForBackend('cpu').filter((kernel) => FUSED_KERNELS.includes(kernel.kernelName));

  beforeAll(() => {
    expect(removed.map((kernel) => kernel.kernelName).sort()).toEqual([...FUSED_KERNELS].sort());
    for (const kernel of removed) tf.unregisterKernel(kernel.kernelName, 'cpu');
  });

  afterAll(() => {
    for (const kernel of removed) tf.registerKernel(kernel);
  });

  /** A machine whose remembered choice is `recalled`; records what the engine remembers. */
  function memoryRecalling(recalled: BackendName | undefined): BackendMemory & { remembered: BackendName[] } {
    const remembered: BackendName[] = [];
    return { remembered, recall: async () => recalled, remember: async (_fingerprint, backend) => void remembered.push(backend) };
  }

  // First: the next test's successful load removes the backends it did not choose, CPU included.
  it('when no backend can run the model, says why, and remembers nothing', async () => {
    const memory = memoryRecalling(undefined);
    const engine = nodeEngine({ backends: ['cpu'], memory });
    await expect(engine.ready()).rejects.toThrow(/^The image model \(MobileNet-EdgeTPU \(more accurate\)\) could not be loaded: .*FusedConv2D/);
    expect(engine.status.state).toBe('failed');
    expect(memory.remembered).toEqual([]);
  });
  it('a remembered backend that fails the model gives way to the next that works, which is remembered instead', async () => {
    const memory = memoryRecalling('cpu');
    const engine = nodeEngine({ backends: ['cpu', 'wasm'], memory });
    await engine.ready();
    expect(engine.status).toMatchObject({ state: 'ready', backend: 'wasm', error: null });
    expect(memory.remembered).toEqual(['wasm']);
    const photo = labelledPhotos()[0]!;
    const pixels = decodeJpeg(photo.path);
    const { imagenet } = await engine.classify(pixels);
    pixels.dispose();
    expect(imagenet[0]!.fullName.toLowerCase()).toContain(photo.expected.toLowerCase());
  });
});
