/**
 * Browser entry for webgl-memory.e2e.test.ts: the real engine on TF.js's WebGL backend in a plain
 * page, fed the shared photos (each a different size) through the extension's own decoder, with
 * TF.js's GPU memory figures after every image.
 */
import * as tf from '@tensorflow/tfjs';
import { distortionSeedOf } from '../../../src/engine/distort';
import { SpotterEngine } from '../../../src/engine/engine';
import { decodeImage } from '../../../src/engine/image-decode';
import { DEFAULT_MODEL_ID, MODELS, modelJsonPath } from '../../../src/shared/models';

export interface GpuFootprint {
  image: string;
  size: string;
  tensors: number;
  /** Bytes of the textures live tensors use. */
  inUse: number;
  /** Bytes of every texture the backend holds, in use or kept for reuse. */
  allocated: number;
  /** Compiled shader programs the backend keeps. */
  programs: number;
}

interface WebglMemoryInfo extends tf.MemoryInfo {
  numBytesInGPU: number;
  numBytesInGPUAllocated: number;
}

// The probe would refuse SwiftShader (software WebGL); a remembered choice skips it, as on a machine that measured WebGL fastest.
// The default backbone, served by the test from .provisioned/.
const engine = new SpotterEngine({ descriptor: MODELS[DEFAULT_MODEL_ID], model: `/${modelJsonPath(MODELS[DEFAULT_MODEL_ID])}`, backends: ['webgl'], memory: { recall: async () => 'webgl', remember: async () => undefined } });

async function classifyAndLabel(url: string): Promise<GpuFootprint> {
  const bitmap = await decodeImage(await (await fetch(url)).blob());
  const size = `${bitmap.width}x${bitmap.height}`;
  try {
    const { embedding } = await engine.classify(bitmap);
    // Two copies rather than labelling's eight: the image-sized steps are the same, and SwiftShader is slow.
    await engine.distortedEmbeddings(bitmap, distortionSeedOf(embedding), 2);
  } finally {
    bitmap.close();
  }
  const memory = tf.memory() as WebglMemoryInfo;
  const programs = Object.keys((tf.backend() as unknown as { binaryCache: object }).binaryCache).length;
  return { image: url, size, tensors: memory.numTensors, inUse: memory.numBytesInGPU, allocated: memory.numBytesInGPUAllocated, programs };
}

async function run(urls: string[]): Promise<{ backend: string; footprints: GpuFootprint[] }> {
  await engine.ready();
  const footprints: GpuFootprint[] = [];
  for (const url of urls) footprints.push(await classifyAndLabel(url));
  return { backend: tf.getBackend(), footprints };
}

Object.assign(globalThis, { spotterWebglRun: run });
