import * as tf from '@tensorflow/tfjs';
// The 1000 ImageNet class names, in the order both backbones' logits use (after logit 0, "background").
import { IMAGENET_CLASSES } from '@tensorflow-models/mobilenet/dist/imagenet_classes.js';
import { SpotterError } from '../shared/errors';
import { MODELS, DEFAULT_MODEL_ID, type FitMode, type ModelDescriptor } from '../shared/models';
import {
  activateBackend,
  BACKEND_NAMES,
  chooseBackend,
  environmentFingerprint,
  probeBackends,
  type BackendMemory,
  type BackendName,
  type BackendTiming,
} from './backend';
import { DISTORTED_COPIES, randomDistortions } from './distort';
import { fittedView, modelBatch, pixelGridOf, type PixelSource } from './preprocess';
import { JobQueue, withTimeout } from './queue';

export type { PixelSource } from './preprocess';

const IMAGENET_CLASS_COUNT = 1000;

export interface EngineConfig {
  /** The backbone: its input, normalisation and node names (src/shared/models.ts). Default: MobileNet-EdgeTPU. */
  descriptor?: ModelDescriptor;
  /** URL of the descriptor's model.json, or an IOHandler (Node tests read the files from disk). */
  model: string | tf.io.IOHandler;
  /** Backends to consider, in order of preference for ties. */
  backends?: readonly BackendName[];
  /** Where the measured choice is kept; without it the probe runs at every load. */
  memory?: BackendMemory;
  /** Overrides the descriptor's fit mode (measurements compare them). */
  fitMode?: FitMode;
  loadTimeoutMs?: number;
  jobTimeoutMs?: number;
}

export interface ImagenetLabel {
  /** The first, commonest name of the class ("giant panda"). */
  label: string;
  /** All of ImageNet's names for it ("giant panda, panda, panda bear, …"). */
  fullName: string;
  probability: number;
}

export interface Classification {
  imagenet: ImagenetLabel[];
  /** The backbone's pooled embedding (1280 values): what the user's own head is trained on. */
  embedding: Float32Array;
  /** Time spent in the model for this image (preprocessing + forward pass + top-k). */
  inferMs: number;
}


function topClasses(probabilities: Float32Array, topK: number): ImagenetLabel[] {
  const indices = Array.from(probabilities.keys()).sort((a, b) => probabilities[b]! - probabilities[a]!).slice(0, topK);
  return indices.map((index) => {
    const fullName = IMAGENET_CLASSES[index] ?? `class ${index}`;
    return { label: fullName.split(',')[0]!.trim(), fullName, probability: probabilities[index]! };
  });
}

export type EngineState = 'idle' | 'loading' | 'ready' | 'failed';

export interface EngineStatus {
  state: EngineState;
  /** The backbone this engine runs. */
  model: ModelDescriptor['id'];
  backend: BackendName | null;
  /** Probe timings when this load measured; null when a remembered choice was used. */
  probe: BackendTiming[] | null;
  loadMs: number | null;
  error: string | null;
}

/**
 * The TF.js core of Spotter: plain TypeScript with no extension APIs, so the same code runs
 * in the engine's worker (in Chrome's offscreen document, Firefox's event page) and in Node (unit tests, benchmarks).
 */
export class SpotterEngine {
  readonly descriptor: ModelDescriptor;
  private readonly queue = new JobQueue();
  private model: tf.GraphModel | null = null;
  private loading: Promise<tf.GraphModel> | null = null;
  private disposed = false;
  private currentStatus: EngineStatus;

  constructor(private readonly config: EngineConfig) {
    this.descriptor = config.descriptor ?? MODELS[DEFAULT_MODEL_ID];
    this.currentStatus = { state: 'idle', model: this.descriptor.id, backend: null, probe: null, loadMs: null, error: null };
  }

  get status(): EngineStatus {
    return { ...this.currentStatus };
  }

  private get fitMode(): FitMode {
    return this.config.fitMode ?? this.descriptor.fitMode;
  }

  /** Loads once; concurrent callers share the same load, and a failed load can be retried. */
  ready(): Promise<tf.GraphModel> {
    if (this.model) return Promise.resolve(this.model);
    this.loading ??= this.load().finally(() => (this.loading = null));
    return this.loading;
  }

  /** ImageNet top-k and the embedding, from one forward pass. */
  async classify(pixels: PixelSource, topK = 3): Promise<Classification> {
    const graph = await this.ready();
    const { embeddingNode, logitsNode, firstClassLogit } = this.descriptor;
    return this.queue.run('Classifying the image', this.config.jobTimeoutMs ?? 20_000, async () => {
      const start = performance.now();
      const grid = await pixelGridOf(pixels);
      const batch = modelBatch(grid, [fittedView(grid.width, grid.height, this.fitMode)], this.descriptor);
      let outputs: [tf.Tensor, tf.Tensor];
      try {
        outputs = tf.tidy(() => {
          const [embedding, logits] = graph.execute(batch, [embeddingNode, logitsNode]) as tf.Tensor[];
          // Logits before the first class (ImageNet's "background") are dropped, as mobilenet.js drops them.
          return [tf.reshape(embedding!, [-1]), tf.reshape(tf.softmax(tf.slice(logits!, [0, firstClassLogit], [-1, IMAGENET_CLASS_COUNT])), [-1])];
        });
      } finally {
        batch.dispose();
      }
      const [embeddingTensor, probabilityTensor] = outputs;
      try {
        const [embedding, probabilities] = (await Promise.all([embeddingTensor.data(), probabilityTensor.data()])) as [Float32Array, Float32Array];
        return { imagenet: topClasses(probabilities, topK), embedding, inferMs: performance.now() - start };
      } finally {
        tf.dispose([embeddingTensor, probabilityTensor]);
      }
    });
  }

  /**
   * Embeddings of randomly distorted copies of an image (see distort.ts): extra training rows
   * for the user's head. Seeded (pass distortionSeedOf(its embedding)), so the same image gives the same copies.
   */
  async distortedEmbeddings(pixels: PixelSource, seed: number, count = DISTORTED_COPIES): Promise<Float32Array[]> {
    const graph = await this.ready();
    if (count <= 0) return [];
    return this.queue.run('Embedding distorted copies', this.config.jobTimeoutMs ?? 20_000, async () => {
      const grid = await pixelGridOf(pixels);
      const batch = modelBatch(grid, randomDistortions(grid.width, grid.height, count, seed), this.descriptor);
      let embeddings: tf.Tensor;
      try {
        embeddings = tf.tidy(() => graph.execute(batch, this.descriptor.embeddingNode) as tf.Tensor);
      } finally {
        batch.dispose();
      }
      try {
        const flat = (await embeddings.data()) as Float32Array;
        const size = flat.length / count;
        return Array.from({ length: count }, (_, index) => flat.slice(index * size, (index + 1) * size));
      } finally {
        embeddings.dispose();
      }
    });
  }

  /**
   * Median time of the model alone on a ready input batch (forward pass, softmax and the read of
   * the probabilities), with nothing of Spotter around it: the floor that `npm run bench` compares
   * the click→overlay time to.
   */
  async timeRawClassify(runs = 10): Promise<number> {
    const graph = await this.ready();
    const side = this.descriptor.inputSize;
    return this.queue.run('Timing the model', 60_000, async () => {
      const input = tf.randomUniform([1, side, side, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
      const times: number[] = [];
      try {
        for (let i = 0; i < runs; i++) {
          const start = performance.now();
          const probabilities = tf.tidy(() => tf.softmax(graph.execute(input, this.descriptor.logitsNode) as tf.Tensor2D));
          await probabilities.data();
          probabilities.dispose();
          times.push(performance.now() - start);
        }
      } finally {
        input.dispose();
      }
      times.sort((a, b) => a - b);
      return times[Math.floor(times.length / 2)]!;
    });
  }

  /**
   * Frees the model once the jobs already queued have run (a model switch replaces this engine).
   * Later requests are refused.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue.run('Closing the model', 60_000, async () => undefined).catch(() => undefined);
    const model = this.model ?? (await this.loading?.catch(() => null)) ?? null;
    model?.dispose();
    this.model = null;
  }

  private async load(): Promise<tf.GraphModel> {
    if (this.disposed) throw new SpotterError('engine', 'This model was replaced by another one.');
    const start = performance.now();
    this.currentStatus = { ...this.currentStatus, state: 'loading', error: null };
    // A backend can pass the probe and still fail the model (a shader it cannot compile): the next one gets its turn.
    const failed: { backend: BackendName; reason: string }[] = [];
    let probe: BackendTiming[] | null = null;
    try {
      for (;;) {
        const choice = await this.selectBackend(failed, probe);
        probe = choice.probe;
        try {
          const model = await this.loadModelOn(choice.backend, probe, start);
          // Remembered only once the model ran on it, so a backend that fails the model is not recalled at every start.
          if (probe) await this.config.memory?.remember(environmentFingerprint(), choice.backend, probe).catch(() => undefined);
          for (const other of this.config.backends ?? BACKEND_NAMES) if (other !== choice.backend && tf.findBackend(other)) tf.removeBackend(other);
          return model;
        } catch (error) {
          // A load that timed out may still arrive (loadModelOn keeps it); a second load beside it would be a second model.
          if (error instanceof SpotterError && error.code === 'timeout') throw error;
          failed.push({ backend: choice.backend, reason: error instanceof Error ? error.message : String(error) });
        }
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.currentStatus = { ...this.currentStatus, state: 'failed', error: message };
      throw new SpotterError('engine', `The image model (${this.descriptor.title}) could not be loaded: ${message}`);
    }
  }

  private async loadModelOn(backend: BackendName, probe: BackendTiming[] | null, start: number): Promise<tf.GraphModel> {
    const loading = this.loadAndWarmUp();
    const ready = (): EngineStatus => ({ state: 'ready', model: this.descriptor.id, backend, probe, loadMs: performance.now() - start, error: null });
    const model = await withTimeout('Loading the model', this.config.loadTimeoutMs ?? 60_000, () => loading).catch((error: unknown) => {
      // A load that finishes after the wait gave up is still the model: keep it rather than load a second one.
      loading.then(
        (late) => {
          if (this.model || this.disposed) return late.dispose();
          this.model = late;
          this.currentStatus = ready();
        },
        () => undefined,
      );
      throw error;
    });
    // An earlier load that gave up may have arrived meanwhile and be in use: keep that one, not two models.
    if (this.model) {
      model.dispose();
      return this.model;
    }
    this.model = model;
    this.currentStatus = ready();
    return model;
  }

  /** Loads the graph and runs one prediction, so the first real click does not pay for kernel set-up (WebGL: shader compilation). */
  private async loadAndWarmUp(): Promise<tf.GraphModel> {
    const graph = await tf.loadGraphModel(this.config.model);
    try {
      const { inputSize, embeddingNode, logitsNode } = this.descriptor;
      const outputs = tf.tidy(() => graph.execute(tf.zeros([1, inputSize, inputSize, 3]), [embeddingNode, logitsNode]) as tf.Tensor[]);
      try {
        const [embedding, logits] = outputs;
        if (embedding?.size !== this.descriptor.embeddingSize) throw new Error(`its embedding has ${embedding?.size} values, expected ${this.descriptor.embeddingSize}`);
        if (!logits || logits.size < this.descriptor.firstClassLogit + IMAGENET_CLASS_COUNT) throw new Error(`it has ${logits?.size} logits, too few for ImageNet's classes`);
        await Promise.all(outputs.map((output) => output.data()));
      } finally {
        tf.dispose(outputs);
      }
    } catch (error) {
      graph.dispose();
      throw error;
    }
    return graph;
  }

  /**
   * The remembered backend for this machine, else the fastest in the probe (run once per load),
   * leaving out those that already failed the model.
   */
  private async selectBackend(
    failed: readonly { backend: BackendName; reason: string }[],
    earlierProbe: BackendTiming[] | null,
  ): Promise<{ backend: BackendName; probe: BackendTiming[] | null }> {
    const candidates = (this.config.backends ?? BACKEND_NAMES).filter((name) => !failed.some((f) => f.backend === name));
    if (candidates.length === 0) {
      // The same reason everywhere (an unreadable model file) is said once.
      const reasons = new Set(failed.map((f) => f.reason));
      throw new Error(reasons.size === 1 ? [...reasons][0] : failed.map((f) => `on ${f.backend}: ${f.reason}`).join('; '));
    }
    if (!earlierProbe) {
      const remembered = await this.config.memory?.recall(environmentFingerprint()).catch(() => undefined);
      if (remembered && candidates.includes(remembered) && (await activateBackend(remembered))) return { backend: remembered, probe: null };
    }
    const probe = earlierProbe ?? (await probeBackends(candidates));
    const backend = chooseBackend(
      probe.filter((timing) => candidates.includes(timing.backend)),
      candidates,
    );
    if (!(await activateBackend(backend))) throw new Error(`the ${backend} backend stopped working after the probe`);
    return { backend, probe };
  }
}
