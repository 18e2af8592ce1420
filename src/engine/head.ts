import * as tf from '@tensorflow/tfjs';
import { weightValuesProblem } from './head-weights';
import { fnv1a, seededRandom } from './seeded-random';
import { DEFAULT_TRAIN_OPTIONS, EMBEDDING_SIZE, type TrainOptions } from './train-options';

/**
 * The user's own classifier: a small TF.js layers model trained on MobileNet embeddings.
 * Plain TF.js with no browser or extension APIs, so it trains and predicts in Node too.
 */


/** Fewest examples a label needs to take part in training, and fewest such labels. */
export const MIN_EXAMPLES_PER_LABEL = 2;
export const MIN_LABELS = 2;

export interface TrainingExample {
  embedding: Float32Array;
  label: string;
  /**
   * Embeddings of randomly distorted copies of the same image (crop, flip, brightness: TF for
   * Poets' "distortions"). Extra training rows only: validation and reports use `embedding`.
   */
  distortions?: readonly Float32Array[];
}

/*
 * The head and its defaults were chosen by measurement (accuracy tables, the heads and options
 * tried): docs/decisions/head.md.
 */
/**
 * Distorted copies help most where examples are few; past this many training rows an example
 * brings fewer copies (none from 601 examples on). Measured (Node, WASM): 500 examples with all
 * 8 copies (4500 rows) retrain in 14.5 s, capped at 1200 rows in 4.6 s.
 */
export const MAX_TRAINING_ROWS = 1200;

/** How many of each example's distorted copies a run on `exampleCount` examples trains on. */
export function copiesPerExample(exampleCount: number): number {
  return Math.max(0, Math.floor(MAX_TRAINING_ROWS / Math.max(1, exampleCount)) - 1);
}

/**
 * Big datasets get bigger batches, so an epoch is at most this many optimizer steps: a step has
 * a fixed cost of ~2 ms on WASM whatever the batch (small sets, where the defaults were
 * measured, keep batch 16).
 */
export const MAX_STEPS_PER_EPOCH = 16;

// The options and their defaults live in a TF.js-free module, so the popup can show the defaults.
export { DEFAULT_TRAIN_OPTIONS, EMBEDDING_SIZE, type TrainOptions } from './train-options';

export interface EpochLog {
  /** 1-based, as a chart would label it. */
  epoch: number;
  /**
   * Mean cross-entropy over the epoch's training rows, each taken on its batch before that step's
   * update (the optimiser also weighs classes and adds the L2 penalty; the curve leaves them out so
   * that it compares with valLoss).
   */
  loss: number | null;
  accuracy: number;
  /** Mean cross-entropy on the held-out examples at the end of the epoch. */
  valLoss: number | null;
  valAccuracy: number | null;
}

export interface TrainingReport {
  /** The head's class order (sorted). */
  labels: string[];
  /** Labels left out for having too few examples, with their counts. */
  ignoredLabels: Record<string, number>;
  epochs: EpochLog[];
  /** The epoch whose weights the head kept (restore-best). */
  bestEpoch: number;
  evaluatedOn: 'validation' | 'training';
  /** Share of the evaluated examples predicted right. */
  accuracy: number;
  /** Per label, share of its evaluated examples predicted right; labels with none evaluated are absent. */
  perLabelAccuracy: Record<string, number>;
  /** confusion[trueIndex][predictedIndex], in `labels` order. */
  confusion: number[][];
  trainCount: number;
  validationCount: number;
  durationMs: number;
  options: TrainOptions;
}

/**
 * Below this top probability the user's head says "unknown" (its best guess is still shown):
 * 1.5x chance, so it scales with the number of labels (0.3 for 5, 0.5 for 3), capped at 0.75
 * for two labels. On the flower split it hides 0 of 23 right answers at 5 labels (0.4 hid 2).
 */
export function unknownThreshold(labelCount: number): number {
  return Math.min(0.75, 1.5 / Math.max(1, labelCount));
}

export interface LabelScore {
  label: string;
  probability: number;
}

export interface SerializedHead {
  format: 'spotter-head@1';
  labels: string[];
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

export const SERIALIZED_HEAD_FORMAT = 'spotter-head@1';

function countByLabel(examples: readonly TrainingExample[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { label } of examples) counts.set(label, (counts.get(label) ?? 0) + 1);
  return counts;
}

/** Labels with enough examples to train on, sorted. */
function trainableLabels(counts: ReadonlyMap<string, number>): string[] {
  return [...counts]
    .filter(([, count]) => count >= MIN_EXAMPLES_PER_LABEL)
    .map(([label]) => label)
    .sort();
}

export function trainabilityProblem(examples: readonly TrainingExample[]): string | null {
  const counts = countByLabel(examples);
  if (trainableLabels(counts).length >= MIN_LABELS) return null;
  const now = counts.size === 0 ? 'no examples yet' : [...counts].map(([label, count]) => `${label} ${count}`).join(', ');
  return `Add at least ${MIN_EXAMPLES_PER_LABEL} examples to each of at least ${MIN_LABELS} labels (now: ${now}).`;
}

/**
 * Lets queued tasks run between epochs (the training loop never yields otherwise), e.g. Firefox's
 * keep-alive timer and the progress requests. A MessageChannel task is not throttled in hidden
 * pages as timers are.
 */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Smallest label that gives up examples to validation. */
const MIN_EXAMPLES_TO_VALIDATE = 4;

export function splitPerClass(
  examples: readonly TrainingExample[],
  fraction: number,
  seed: number,
): { train: TrainingExample[]; validation: TrainingExample[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`validationFraction must be in [0, 1), got ${fraction}`);
  const indicesByLabel = new Map<string, number[]>();
  examples.forEach(({ label }, index) => {
    const indices = indicesByLabel.get(label);
    if (indices) indices.push(index);
    else indicesByLabel.set(label, [index]);
  });
  const held = new Set<number>();
  if (fraction > 0) {
    for (const [label, indices] of indicesByLabel) {
      const n = indices.length;
      if (n < MIN_EXAMPLES_TO_VALIDATE) continue;
      // Each label draws from its own stream, so adding examples to one label leaves the others' split alone.
      const random = seededRandom(seed ^ fnv1a(Array.from({ length: label.length }, (_, i) => label.charCodeAt(i))));
      // Keep at least 2 to train on, whatever the fraction.
      const take = Math.min(n - MIN_EXAMPLES_PER_LABEL, Math.max(1, Math.round(fraction * n)));
      for (const index of shuffleInPlace([...indices], random).slice(0, take)) held.add(index);
    }
  }
  // Both halves keep the input order.
  return {
    train: examples.filter((_, index) => !held.has(index)),
    validation: examples.filter((_, index) => held.has(index)),
  };
}

/** Balances the labels by training rows (an example and its distorted copies), so none dominates the loss. */
export function classWeights(labels: readonly string[], train: readonly TrainingExample[], maxCopies = Number.POSITIVE_INFINITY): Record<number, number> {
  const counts = new Map<string, number>();
  for (const { label, distortions } of train) counts.set(label, (counts.get(label) ?? 0) + 1 + Math.min(maxCopies, distortions?.length ?? 0));
  const present = labels.filter((label) => (counts.get(label) ?? 0) > 0);
  const total = present.reduce((sum, label) => sum + counts.get(label)!, 0);
  const weights: Record<number, number> = {};
  labels.forEach((label, index) => {
    const count = counts.get(label) ?? 0;
    // A label with no training examples never appears in a batch; 1 keeps the map complete.
    weights[index] = count > 0 ? total / (present.length * count) : 1;
  });
  return weights;
}

function checkOptions(options: TrainOptions): void {
  const problems: string[] = [];
  const positiveInteger = (name: 'epochs' | 'batchSize' | 'patience') => {
    if (!(Number.isInteger(options[name]) && options[name] >= 1)) problems.push(`${name} must be a positive integer (got ${options[name]})`);
  };
  positiveInteger('epochs');
  positiveInteger('batchSize');
  positiveInteger('patience');
  if (!(Number.isInteger(options.hiddenUnits) && options.hiddenUnits >= 0)) problems.push(`hiddenUnits must be 0 or a positive integer (got ${options.hiddenUnits})`);
  if (!(options.learningRate > 0 && Number.isFinite(options.learningRate))) problems.push(`learningRate must be positive (got ${options.learningRate})`);
  if (!(options.l2 >= 0 && Number.isFinite(options.l2))) problems.push(`l2 must be 0 or positive (got ${options.l2})`);
  if (!(options.dropoutRate >= 0 && options.dropoutRate < 1)) problems.push(`dropoutRate must be in [0, 1) (got ${options.dropoutRate})`);
  if (!(options.validationFraction >= 0 && options.validationFraction < 1)) problems.push(`validationFraction must be in [0, 1) (got ${options.validationFraction})`);
  if (!Number.isInteger(options.seed)) problems.push(`seed must be an integer (got ${options.seed})`);
  if (problems.length > 0) throw new RangeError(`Bad training options: ${problems.join('; ')}.`);
}

function checkEmbedding(embedding: Float32Array, what: string): void {
  if (!(embedding instanceof Float32Array) || embedding.length !== EMBEDDING_SIZE) {
    const length = (embedding as { length?: unknown } | null)?.length;
    throw new RangeError(`${what} must be a Float32Array of ${EMBEDDING_SIZE} values (got length ${String(length)}).`);
  }
  // One NaN would turn every weight of the head into NaN.
  if (!embedding.every(Number.isFinite)) throw new RangeError(`${what} contains a value that is not a finite number.`);
}

function buildModel(classCount: number, options: TrainOptions): tf.Sequential {
  const model = tf.sequential();
  const seeded = (offset: number) => tf.initializers.glorotUniform({ seed: options.seed + offset });
  // No kernelRegularizer: the training loop adds the L2 penalty to its objective itself.
  if (options.hiddenUnits > 0) {
    model.add(tf.layers.dense({ inputShape: [EMBEDDING_SIZE], units: options.hiddenUnits, activation: 'relu', kernelInitializer: seeded(0) }));
    // Not seeded on purpose: TF.js reuses a dropout seed for every batch, which drops the same units each time.
    model.add(tf.layers.dropout({ rate: options.dropoutRate }));
  }
  model.add(
    tf.layers.dense({
      ...(options.hiddenUnits > 0 ? {} : { inputShape: [EMBEDDING_SIZE] }),
      units: classCount,
      activation: 'softmax',
      kernelInitializer: seeded(1),
    }),
  );
  return model;
}

/**
 * Training rows kept on the JS side, one per embedding: an example's own, then up to `maxCopies`
 * of its distorted copies. Each batch is copied out of here and uploaded, because on WASM slicing
 * or gathering rows out of a big tensor costs as much as copying the whole tensor (measured: 2 ms
 * for 29 of 450 rows), which made every step of tfjs-layers' fit cost O(all rows).
 */
interface TrainingRows {
  count: number;
  features: Float32Array;
  classIndices: Int32Array;
  /** Each row's class weight (see classWeights). */
  weights: Float32Array;
}

function toRows(examples: readonly TrainingExample[], labels: readonly string[], maxCopies: number, weights: Record<number, number>): TrainingRows {
  const vectors = examples.flatMap(({ embedding, distortions, label }) =>
    [embedding, ...(distortions ?? []).slice(0, maxCopies)].map((vector) => ({ vector, classIndex: labels.indexOf(label) })),
  );
  const rows: TrainingRows = {
    count: vectors.length,
    features: new Float32Array(vectors.length * EMBEDDING_SIZE),
    classIndices: new Int32Array(vectors.length),
    weights: new Float32Array(vectors.length),
  };
  vectors.forEach(({ vector, classIndex }, row) => {
    rows.features.set(vector, row * EMBEDDING_SIZE);
    rows.classIndices[row] = classIndex;
    rows.weights[row] = weights[classIndex] ?? 1;
  });
  return rows;
}

interface Batch {
  x: tf.Tensor2D;
  /** One-hot targets. */
  y: tf.Tensor2D;
  weights: tf.Tensor1D;
}

/** The rows order[start..end) as tensors. */
function batchOf(rows: TrainingRows, order: readonly number[], start: number, end: number, classCount: number): Batch {
  const size = end - start;
  const features = new Float32Array(size * EMBEDDING_SIZE);
  const classIndices = new Int32Array(size);
  const weights = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const row = order[start + i]!;
    features.set(rows.features.subarray(row * EMBEDDING_SIZE, (row + 1) * EMBEDDING_SIZE), i * EMBEDDING_SIZE);
    classIndices[i] = rows.classIndices[row]!;
    weights[i] = rows.weights[row]!;
  }
  return tf.tidy(() => ({
    x: tf.tensor2d(features, [size, EMBEDDING_SIZE]),
    y: tf.cast(tf.oneHot(tf.tensor1d(classIndices, 'int32'), classCount), 'float32') as tf.Tensor2D,
    weights: tf.tensor1d(weights),
  }));
}

/**
 * Per-row cross-entropy of softmax outputs, clipped as tfjs-layers clips it: by the backend's
 * epsilon (1e-7 in float32; 1e-4 on WebGL with only half floats, where 1e-7 is 0 and log(0) made
 * every loss NaN).
 */
function crossEntropy(oneHot: tf.Tensor2D, probabilities: tf.Tensor2D): tf.Tensor1D {
  const epsilon = tf.backend().epsilon();
  return tf.neg(tf.sum(tf.mul(oneHot, tf.log(tf.clipByValue(probabilities, epsilon, 1 - epsilon))), 1)) as tf.Tensor1D;
}

/** [sum of the rows' cross-entropy, rows predicted right]: summed on the device, read once an epoch. */
function lossAndHits(oneHot: tf.Tensor2D, probabilities: tf.Tensor2D): tf.Tensor1D {
  const hits = tf.cast(tf.equal(tf.argMax(probabilities, 1), tf.argMax(oneHot, 1)), 'float32');
  return tf.stack([tf.sum(crossEntropy(oneHot, probabilities)), tf.sum(hits)]) as tf.Tensor1D;
}

/** One pass over the rows in `order`: [sum of the rows' cross-entropy, rows predicted right], each row as its batch saw it. */
async function trainOneEpoch(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  objective: (batch: Batch, probabilities: tf.Tensor2D) => tf.Scalar,
  rows: TrainingRows,
  order: readonly number[],
  batchSize: number,
  classCount: number,
): Promise<[number, number]> {
  let totals: tf.Tensor1D = tf.zeros([2]);
  try {
    for (let start = 0; start < rows.count; start += batchSize) {
      const batch = batchOf(rows, order, start, Math.min(rows.count, start + batchSize), classCount);
      const seen: { stats?: tf.Tensor1D } = {};
      try {
        optimizer.minimize(
          () => {
            const probabilities = model.apply(batch.x, { training: true }) as tf.Tensor2D;
            // Measured before the step updates the weights, as fit reports it.
            seen.stats = tf.keep(lossAndHits(batch.y, probabilities));
            return objective(batch, probabilities);
          },
          false,
          variables,
        );
        const previous = totals;
        totals = tf.add(totals, seen.stats!);
        previous.dispose();
      } finally {
        tf.dispose([batch.x, batch.y, batch.weights, seen.stats ?? []]);
      }
    }
  } catch (error) {
    totals.dispose();
    throw error;
  }
  // One read an epoch: on WebGL every read waits for the GPU.
  return readTotals(totals);
}

/** [sum of the rows' cross-entropy, rows predicted right] of the model on a batch. */
function lossAndHitsOf(model: tf.LayersModel, batch: Batch): Promise<[number, number]> {
  return readTotals(tf.tidy(() => lossAndHits(batch.y, model.predict(batch.x) as tf.Tensor2D)));
}

/** Reads a lossAndHits pair and disposes it. */
async function readTotals(totals: tf.Tensor1D): Promise<[number, number]> {
  try {
    const [lossSum = Number.NaN, hits = 0] = await totals.data();
    return [lossSum, hits];
  } finally {
    totals.dispose();
  }
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

export async function trainHead(
  examples: readonly TrainingExample[],
  options: Partial<TrainOptions> = {},
  onEpoch?: (log: EpochLog) => void,
): Promise<{ head: UserHead; report: TrainingReport }> {
  const start = performance.now();
  // An option given as undefined keeps its default.
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const settings: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...given };
  checkOptions(settings);
  const problem = trainabilityProblem(examples);
  if (problem) throw new Error(problem);
  examples.forEach((example, index) => {
    checkEmbedding(example.embedding, `Example ${index + 1} (${example.label})`);
    example.distortions?.forEach((distortion, copy) => checkEmbedding(distortion, `Example ${index + 1} (${example.label}), distorted copy ${copy + 1}`));
  });

  const counts = countByLabel(examples);
  const labels = trainableLabels(counts);
  const ignoredLabels = Object.fromEntries([...counts].filter(([label]) => !labels.includes(label)));
  const usable = examples.filter(({ label }) => labels.includes(label));
  const { train, validation } = splitPerClass(usable, settings.validationFraction, settings.seed);
  const evaluatedOn = validation.length > 0 ? 'validation' : 'training';

  const copies = copiesPerExample(train.length);
  const rows = toRows(train, labels, copies, classWeights(labels, train, copies));
  const batchSize = Math.max(settings.batchSize, Math.ceil(rows.count / MAX_STEPS_PER_EPOCH));

  // A plain training loop rather than tfjs-layers' fit: our own batching (see TrainingRows) makes a
  // step ~3x cheaper. The objective is fit's: mean(class weight x cross-entropy) + L2 on the kernels.
  const model = buildModel(labels.length, settings);
  const optimizer = tf.train.adam(settings.learningRate);
  const variables = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  const kernels = variables.filter((variable) => variable.shape.length === 2);
  const objective = (batch: Batch, probabilities: tf.Tensor2D): tf.Scalar =>
    tf.add(
      tf.mean(tf.mul(crossEntropy(batch.y, probabilities), batch.weights)),
      tf.mul(settings.l2, tf.addN(kernels.map((kernel) => tf.sum(tf.square(kernel))))),
    ) as tf.Scalar;
  // Our own seeded shuffle, so a seed repeats a run exactly.
  const shuffleRandom = seededRandom(settings.seed ^ 0x5eed);
  const order = Array.from({ length: rows.count }, (_, row) => row);
  const epochs: EpochLog[] = [];
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let bestWeights: tf.Tensor[] | null = null;
  let validationBatch: Batch | null = null;
  let trained = false;
  try {
    if (validation.length > 0) validationBatch = batchOf(toRows(validation, labels, 0, {}), validation.map((_, row) => row), 0, validation.length, labels.length);
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      shuffleInPlace(order, shuffleRandom);
      const [lossSum, hits] = await trainOneEpoch(model, optimizer, variables, objective, rows, order, batchSize, labels.length);
      const [validationLossSum, validationHits] = validationBatch ? await lossAndHitsOf(model, validationBatch) : [Number.NaN, 0];
      const log: EpochLog = {
        epoch,
        loss: finiteOrNull(lossSum / rows.count),
        accuracy: hits / rows.count,
        valLoss: validationBatch ? finiteOrNull(validationLossSum / validation.length) : null,
        valAccuracy: validationBatch ? validationHits / validation.length : null,
      };
      epochs.push(log);
      onEpoch?.(log);
      await nextTask();

      const monitored = (validationBatch ? log.valLoss : log.loss) ?? Number.NaN;
      if (monitored < bestLoss) {
        bestLoss = monitored;
        bestEpoch = epoch;
        tf.dispose(bestWeights ?? []);
        // Clones share the data; the optimiser's updates replace a variable's data rather than write into it.
        bestWeights = model.getWeights().map((weight) => tf.clone(weight));
      } else if (epoch - bestEpoch >= settings.patience) {
        break;
      }
    }
    if (!bestWeights) throw new Error('Training went wrong: the loss was never a finite number. Try a smaller learning rate.');
    model.setWeights(bestWeights);
    trained = true;
  } finally {
    tf.dispose(bestWeights ?? []);
    if (validationBatch) tf.dispose([validationBatch.x, validationBatch.y, validationBatch.weights]);
    optimizer.dispose();
    if (!trained) model.dispose();
  }

  let head = new UserHead(model, labels);
  const evaluated = evaluatedOn === 'validation' ? validation : train;
  let predictions: LabelScore[][];
  try {
    predictions = await head.predictMany(evaluated.map(({ embedding }) => embedding));
  } catch (error) {
    head.dispose();
    throw error;
  }
  const { accuracy, perLabelAccuracy, confusion } = evaluate(
    labels,
    evaluated.map(({ label }) => label),
    predictions,
  );
  if (settings.refitOnAll && validation.length > 0) {
    // The full schedule, not the early-stopped epoch count: on one or two held-out examples per label the
    // validation minimum comes too early (measured: 66.7 % vs 76.7 % on the flower split).
    const refit = await trainHead(usable, { ...settings, validationFraction: 0, refitOnAll: false }).catch((error: unknown) => {
      head.dispose();
      throw error;
    });
    head.dispose();
    head = refit.head;
  }
  return {
    head,
    report: {
      labels: [...labels],
      ignoredLabels,
      epochs,
      bestEpoch,
      evaluatedOn,
      accuracy,
      perLabelAccuracy,
      confusion,
      trainCount: train.length,
      validationCount: validation.length,
      durationMs: performance.now() - start,
      options: settings,
    },
  };
}

/** Accuracy, per-label accuracy and the confusion matrix of predictions against true labels. */
export function evaluate(
  labels: readonly string[],
  truth: readonly string[],
  predictions: readonly LabelScore[][],
): { accuracy: number; perLabelAccuracy: Record<string, number>; confusion: number[][] } {
  const confusion = labels.map(() => labels.map(() => 0));
  let correct = 0;
  truth.forEach((label, i) => {
    const trueIndex = labels.indexOf(label);
    const predictedIndex = labels.indexOf(predictions[i]?.[0]?.label ?? '');
    if (trueIndex < 0 || predictedIndex < 0) return;
    confusion[trueIndex]![predictedIndex]!++;
    if (trueIndex === predictedIndex) correct++;
  });
  const perLabelAccuracy: Record<string, number> = {};
  labels.forEach((label, index) => {
    const row = confusion[index]!;
    const total = row.reduce((sum, n) => sum + n, 0);
    if (total > 0) perLabelAccuracy[label] = row[index]! / total;
  });
  return { accuracy: truth.length > 0 ? correct / truth.length : Number.NaN, perLabelAccuracy, confusion };
}

interface ModelFiles {
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
  format?: string;
  generatedBy?: string;
}

async function modelArtifacts(model: tf.LayersModel): Promise<ModelFiles> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const artifacts = saved as tf.io.ModelArtifacts | null;
  if (!artifacts?.modelTopology || !artifacts.weightSpecs || !artifacts.weightData) throw new Error('TF.js saved the head without its topology or weights');
  return {
    modelTopology: artifacts.modelTopology as object,
    weightSpecs: artifacts.weightSpecs,
    // A fresh copy: the caller may keep or transfer it.
    weightData: tf.io.CompositeArrayBuffer.join(artifacts.weightData).slice(0),
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
  };
}

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function isArrayBuffer(value: unknown): value is ArrayBuffer {
  // Not instanceof: a buffer read back from IndexedDB or another frame belongs to another realm.
  return Object.prototype.toString.call(value) === '[object ArrayBuffer]';
}

/** Checks a stored head's shape before TF.js sees it; returns the reason it is unusable, or null. */
function serializedHeadProblem(data: unknown): string | null {
  if (typeof data !== 'object' || data === null) return 'it is not an object';
  const head = data as Partial<Record<keyof SerializedHead, unknown>>;
  if (head.format !== SERIALIZED_HEAD_FORMAT) return `its format is ${JSON.stringify(head.format)}, expected "${SERIALIZED_HEAD_FORMAT}"`;
  const { labels, modelTopology, weightSpecs, weightData } = head;
  if (!Array.isArray(labels) || !labels.every((label) => typeof label === 'string' && label.length > 0)) return 'its labels are not a list of names';
  if (labels.length < MIN_LABELS) return `it has ${labels.length} label(s), at least ${MIN_LABELS} are needed`;
  if (new Set(labels).size !== labels.length) return 'its labels contain duplicates';
  if (typeof modelTopology !== 'object' || modelTopology === null) return 'it has no model topology';
  if (!Array.isArray(weightSpecs)) return 'it has no weight specs';
  let expectedBytes = 0;
  for (const spec of weightSpecs as unknown[]) {
    const { name, shape, dtype, quantization } = (spec ?? {}) as Partial<tf.io.WeightsManifestEntry>;
    const bytes = BYTES_PER_VALUE[quantization?.dtype ?? dtype ?? ''];
    if (typeof name !== 'string' || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || bytes === undefined) {
      return `weight spec ${JSON.stringify(spec)} is malformed`;
    }
    expectedBytes += shape.reduce((size, d) => size * d, 1) * bytes;
  }
  if (!isArrayBuffer(weightData)) return 'its weight data is not an ArrayBuffer';
  if (weightData.byteLength < expectedBytes) return `its weights are truncated (${weightData.byteLength} of ${expectedBytes} bytes)`;
  if (weightData.byteLength > expectedBytes) return `its weights have ${weightData.byteLength - expectedBytes} bytes more than the specs describe`;
  return weightValuesProblem(weightSpecs as tf.io.WeightsManifestEntry[], weightData);
}

/**
 * tf.loadLayersModel from memory, less its leak: when the weights do not fit the model (another
 * shape, a missing or extra weight), TF.js threw and left the model's variables and the decoded
 * weights behind. Here the model is disposed and the decoded weights always are (the model's
 * variables take their own reference).
 */
async function rebuiltModel(data: SerializedHead): Promise<tf.LayersModel> {
  const model = await tf.models.modelFromJSON({ modelTopology: data.modelTopology as tf.io.ModelJSON['modelTopology'] });
  let weights: tf.NamedTensorMap = {};
  try {
    weights = tf.io.decodeWeights(data.weightData, data.weightSpecs);
    model.loadWeights(weights, true);
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    tf.dispose(Object.values(weights));
  }
}

/**
 * Embedding-like test inputs (MobileNet's pooled ReLU6 outputs lie in [0, 6]): none, even, mixed
 * and the largest. Finite weights can still overflow, and a last layer other than softmax gives
 * scores, not probabilities: either way every answer would fail validation.
 */
function probeEmbeddings(): Float32Array[] {
  const random = seededRandom(0x9e0be);
  return [new Float32Array(EMBEDDING_SIZE), new Float32Array(EMBEDDING_SIZE).fill(0.5), Float32Array.from({ length: EMBEDDING_SIZE }, () => random() * 6), new Float32Array(EMBEDDING_SIZE).fill(6)];
}

/** Why a head's answers on the probe inputs are not probabilities, or null. */
async function predictionProblem(head: UserHead): Promise<string | null> {
  for (const scores of await head.predictMany(probeEmbeddings())) {
    const wrong = scores.find(({ probability }) => !(probability >= 0 && probability <= 1));
    if (wrong) return `it gave ${wrong.probability} on a test input, not a probability`;
    const sum = scores.reduce((total, { probability }) => total + probability, 0);
    if (Math.abs(sum - 1) > 1e-3) return `its predictions on a test input add up to ${sum}, not 1`;
  }
  return null;
}

export class UserHead {
  readonly labels: readonly string[];
  private disposed = false;

  constructor(
    private readonly model: tf.LayersModel,
    labels: readonly string[],
  ) {
    const inputShape = model.inputs[0]?.shape;
    const outputShape = model.outputs[0]?.shape;
    if (model.inputs.length !== 1 || inputShape?.length !== 2 || inputShape[1] !== EMBEDDING_SIZE) {
      throw new Error(`The head's input must be [batch, ${EMBEDDING_SIZE}] (got ${JSON.stringify(model.inputs.map((input) => input.shape))}).`);
    }
    if (model.outputs.length !== 1 || outputShape?.length !== 2 || outputShape[1] !== labels.length) {
      throw new Error(`The head has ${String(outputShape?.[1])} outputs but ${labels.length} labels.`);
    }
    this.labels = Object.freeze([...labels]);
  }

  async predict(embedding: Float32Array): Promise<LabelScore[]> {
    const [scores] = await this.predictMany([embedding]);
    return scores!;
  }

  async predictMany(embeddings: readonly Float32Array[]): Promise<LabelScore[][]> {
    this.checkUsable();
    if (embeddings.length === 0) return [];
    embeddings.forEach((embedding, index) => checkEmbedding(embedding, `Embedding ${index + 1}`));
    const flat = new Float32Array(embeddings.length * EMBEDDING_SIZE);
    embeddings.forEach((embedding, row) => flat.set(embedding, row * EMBEDDING_SIZE));
    const probabilities = tf.tidy(() => this.model.predict(tf.tensor2d(flat, [embeddings.length, EMBEDDING_SIZE])) as tf.Tensor2D);
    let values: Float32Array;
    try {
      values = (await probabilities.data()) as Float32Array;
    } finally {
      probabilities.dispose();
    }
    const k = this.labels.length;
    return embeddings.map((_, row) =>
      this.labels
        .map((label, column) => ({ label, probability: values[row * k + column]! }))
        .sort((a, b) => b.probability - a.probability),
    );
  }

  async serialize(): Promise<SerializedHead> {
    this.checkUsable();
    const { modelTopology, weightSpecs, weightData } = await modelArtifacts(this.model);
    return { format: SERIALIZED_HEAD_FORMAT, labels: [...this.labels], modelTopology, weightSpecs, weightData };
  }

  static async deserialize(data: SerializedHead): Promise<UserHead> {
    const problem = serializedHeadProblem(data);
    if (problem) throw new Error(`The saved head cannot be used: ${problem}.`);
    let model: tf.LayersModel;
    try {
      model = await rebuiltModel(data);
    } catch (error) {
      throw new Error(`The saved head cannot be used: TF.js could not rebuild it (${error instanceof Error ? error.message : String(error)}).`);
    }
    let head: UserHead;
    try {
      head = new UserHead(model, data.labels);
    } catch (error) {
      model.dispose();
      throw new Error(`The saved head cannot be used: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Checked before the head replaces anything: one that predicts no probabilities would fail every classification.
    const wrong = await predictionProblem(head).catch((error: unknown) => `it cannot predict (${error instanceof Error ? error.message : String(error)})`);
    if (wrong) {
      head.dispose();
      throw new Error(`The saved head cannot be used: ${wrong}.`);
    }
    return head;
  }

  async exportFiles(): Promise<{ modelJson: string; weights: ArrayBuffer; labelsJson: string }> {
    this.checkUsable();
    const { modelTopology, weightSpecs, weightData, format, generatedBy } = await modelArtifacts(this.model);
    const modelJson = {
      format: format ?? 'layers-model',
      generatedBy: generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: null,
      modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs }],
    };
    return { modelJson: JSON.stringify(modelJson), weights: weightData, labelsJson: JSON.stringify(this.labels) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.model.dispose();
  }

  private checkUsable(): void {
    if (this.disposed) throw new Error('This head has been disposed.');
  }
}
