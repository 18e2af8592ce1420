import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, type BackendName } from '../shared/backends';
import { withTimeout } from './queue';

export { BACKEND_NAMES, type BackendName };

/** One backend's probe result: median milliseconds per run, or why it could not run. */
export type BackendTiming = { backend: BackendName; ms: number } | { backend: BackendName; ms: null; error: string };

/**
 * Picks the fastest backend that worked. Ties go to the earlier entry of `preference`
 * (WebGL first: on real GPUs it scales better with batch size than the probe shows).
 */
export function chooseBackend(timings: readonly BackendTiming[], preference: readonly BackendName[] = BACKEND_NAMES): BackendName {
  const usable = timings.filter((t): t is Extract<BackendTiming, { ms: number }> => t.ms !== null && Number.isFinite(t.ms));
  if (usable.length === 0) {
    const reasons = timings.map((t) => `${t.backend}: ${t.ms === null ? t.error : 'no time'}`).join('; ');
    throw new Error(`No TF.js backend could run here (${reasons || 'none tried'}).`);
  }
  const rank = (name: BackendName) => {
    const index = preference.indexOf(name);
    return index === -1 ? preference.length : index;
  };
  usable.sort((a, b) => a.ms - b.ms || rank(a.backend) - rank(b.backend));
  return usable[0]!.backend;
}

/** Remembers the chosen backend per machine, so the probe runs once rather than at every start. */
export interface BackendMemory {
  recall(fingerprint: string): Promise<BackendName | undefined>;
  remember(fingerprint: string, backend: BackendName, timings: readonly BackendTiming[]): Promise<void>;
}

/**
 * What identifies "the same machine and browser" for the remembered choice: a new GPU,
 * driver or browser version means the old measurement no longer holds.
 */
export function environmentFingerprint(): string {
  const parts = [typeof navigator === 'undefined' ? `node ${process.version}` : navigator.userAgent];
  parts.push(webglRenderer() ?? 'no-webgl');
  return parts.join(' | ');
}

/**
 * WebGL drawn by the CPU (SwiftShader, llvmpipe) is roughly 8x slower than WASM-SIMD for this
 * model and costs seconds of shader compilation to even measure, so the probe skips it.
 */
export function isSoftwareRenderer(renderer: string): boolean {
  return /swiftshader|llvmpipe|softpipe|software|basic render driver/i.test(renderer);
}

function webglRenderer(): string | undefined {
  if (typeof OffscreenCanvas === 'undefined') return undefined;
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2') ?? new OffscreenCanvas(1, 1).getContext('webgl');
    if (!gl) return undefined;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) as unknown;
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return String(renderer);
  } catch {
    return undefined;
  }
}

/** Threaded WASM hangs in Chrome extension pages (its worker needs blob: scripts, which MV3's CSP forbids): docs/decisions/wasm-threads.md. */
export function configureWasmSingleThread(): void {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
}

/** Activates a backend; false (not an exception) when it cannot start here. */
export async function activateBackend(name: BackendName, timeoutMs = 10_000): Promise<boolean> {
  if (name === 'wasm') configureWasmSingleThread();
  try {
    return await withTimeout(`Starting the ${name} backend`, timeoutMs, () => tf.setBackend(name));
  } catch {
    return false;
  }
}

/**
 * Times each candidate on a small slice of MobileNet-like work (depthwise + pointwise
 * convolutions), after one untimed warm-up run that absorbs shader compilation.
 */
export async function probeBackends(candidates: readonly BackendName[], runs = 3): Promise<BackendTiming[]> {
  const timings: BackendTiming[] = [];
  let best = Number.POSITIVE_INFINITY;
  for (const backend of candidates) {
    const renderer = backend === 'webgl' ? webglRenderer() : undefined;
    if (renderer && isSoftwareRenderer(renderer)) {
      timings.push({ backend, ms: null, error: `software-emulated WebGL (${renderer})` });
      continue;
    }
    if (!(await activateBackend(backend))) {
      timings.push({ backend, ms: null, error: 'not available' });
      continue;
    }
    try {
      const ms = await timeProbeWorkload(runs, best);
      best = Math.min(best, ms);
      timings.push({ backend, ms });
    } catch (error) {
      timings.push({ backend, ms: null, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return timings;
}

/** Stops early once a backend is clearly out of the race (3x slower than the best so far). */
async function timeProbeWorkload(runs: number, bestSoFar: number): Promise<number> {
  const input = tf.randomUniform([1, 56, 56, 96], 0, 1, 'float32', 1) as tf.Tensor4D;
  const depthwise = tf.randomUniform([3, 3, 96, 1], -0.1, 0.1, 'float32', 2) as tf.Tensor4D;
  const pointwise = tf.randomUniform([1, 1, 96, 96], -0.1, 0.1, 'float32', 3) as tf.Tensor4D;
  const once = async () => {
    const start = performance.now();
    const out = tf.tidy(() => {
      let x = input;
      for (let i = 0; i < 4; i++) {
        x = tf.relu6(tf.conv2d(tf.relu6(tf.depthwiseConv2d(x, depthwise, 1, 'same')), pointwise, 1, 'same'));
      }
      return tf.mean(x);
    });
    await out.data();
    out.dispose();
    return performance.now() - start;
  };
  try {
    const warmUp = await once();
    if (warmUp > 3 * bestSoFar) return warmUp;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      times.push(await once());
      if (times[0]! > 3 * bestSoFar) break;
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    tf.dispose([input, depthwise, pointwise]);
  }
}
