import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { chooseBackend, isSoftwareRenderer, probeBackends, type BackendTiming } from '../../src/engine/backend';

describe('chooseBackend', () => {
  it('picks the fastest backend that ran', () => {
    // As measured in a Chromium offscreen document with SwiftShader (software WebGL).
    const software: BackendTiming[] = [
      { backend: 'webgl', ms: 264 },
      { backend: 'wasm', ms: 35 },
      { backend: 'cpu', ms: 744 },
    ];
    expect(chooseBackend(software)).toBe('wasm');
    // A real GPU.
    expect(chooseBackend([{ backend: 'webgl', ms: 6 }, { backend: 'wasm', ms: 35 }, { backend: 'cpu', ms: 700 }])).toBe('webgl');
  });

  it('ignores backends that failed to start', () => {
    expect(chooseBackend([{ backend: 'webgl', ms: null, error: 'no context' }, { backend: 'cpu', ms: 700 }])).toBe('cpu');
  });

  it('breaks ties by preference order', () => {
    expect(chooseBackend([{ backend: 'cpu', ms: 10 }, { backend: 'wasm', ms: 10 }])).toBe('wasm');
    expect(chooseBackend([{ backend: 'cpu', ms: 10 }, { backend: 'wasm', ms: 10 }], ['cpu', 'wasm'])).toBe('cpu');
  });

  it('explains why when nothing can run', () => {
    expect(() => chooseBackend([{ backend: 'webgl', ms: null, error: 'no GPU' }])).toThrow(/webgl: no GPU/);
    expect(() => chooseBackend([])).toThrow(/No TF.js backend/);
  });
});

describe('isSoftwareRenderer', () => {
  it('recognises CPU-drawn WebGL', () => {
    expect(isSoftwareRenderer('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)')).toBe(true);
    expect(isSoftwareRenderer('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe(true);
    expect(isSoftwareRenderer('ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)')).toBe(false);
    expect(isSoftwareRenderer('Apple M2')).toBe(false);
  });
});

describe('probeBackends (real TF.js in Node)', () => {
  it('times wasm and cpu, reports webgl as unavailable, and picks the faster one measured', async () => {
    const timings = await probeBackends(['webgl', 'wasm', 'cpu']);
    expect(timings.map((t) => t.backend)).toEqual(['webgl', 'wasm', 'cpu']);
    expect(timings[0]).toMatchObject({ ms: null });
    const wasm = timings[1]!;
    const cpu = timings[2]!;
    expect(wasm.ms).toBeGreaterThan(0);
    expect(cpu.ms).toBeGreaterThan(0);
    // Which one wins is a benchmark's question (scripts/bench.ts); here, that the measured winner is chosen.
    expect(chooseBackend(timings)).toBe(wasm.ms! <= cpu.ms! ? 'wasm' : 'cpu');
  });

  it('leaves no tensors behind', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    await probeBackends(['cpu']);
    expect(tf.memory().numTensors).toBe(before);
  });
});
