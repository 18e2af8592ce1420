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
   * Mean cross-entropy of the fold heads over their training rows (copies included), each taken on
   * its batch before that step's update (the optimiser also weighs classes and adds the L2 penalty;
   * the curve leaves them out so that it compares with valLoss).
   */
  loss: number | null;
  accuracy: number;
  /**
   * Mean cross-entropy at the end of the epoch of every example under the fold head that never saw
   * it (out of fold). Null in reports saved before cross-validation when nothing was held out.
   */
  valLoss: number | null;
  valAccuracy: number | null;
}

export interface TrainingReport {
  /** The head's class order (sorted). */
  labels: string[];
  /** Labels left out for having too few examples, with their counts. */
  ignoredLabels: Record<string, number>;
  epochs: EpochLog[];
  /** The epoch whose weights the heads kept (restore-best on the out-of-fold loss). */
  bestEpoch: number;
  /**
   * 'cross-validation': accuracy, per-label accuracy and confusion count every example once, as
   * predicted by the fold head trained without it (and without its distorted copies). Reports saved
   * by earlier versions say 'validation' (one held-out share) or 'training'; they still show.
   */
  evaluatedOn: 'cross-validation' | 'validation' | 'training';
  /** k of the k-fold cross-validation (absent in older reports). */
  folds?: number;
  /** Each fold's accuracy on its held-out examples, in fold order (absent in older reports). */
  foldAccuracies?: number[];
  /** Share of the evaluated examples predicted right. */
  accuracy: number;
  /** Per label, share of its evaluated examples predicted right; labels with none evaluated are absent. */
  perLabelAccuracy: Record<string, number>;
  /** confusion[trueIndex][predictedIndex], in `labels` order. */
  confusion: number[][];
  /** Examples the kept head trained on. */
  trainCount: number;
  /** Examples the estimate was measured on (with cross-validation: all of them, each once). */
  validationCount: number;
  durationMs: number;
  options: TrainOptions;
}

/**
 * "unknown" means "none of my labels": an image is unknown when its L2-normalised embedding is
 * farther (cosine distance) from the centroid of the label it would be given than the user's own
 * examples are from theirs: past mean + UNKNOWN_SPREAD x sd of the leave-one-out distances of every
 * example to its own label's centroid, pooled over the labels. Chosen by measurement over seeded
 * random splits of the shared photos: docs/decisions/unknown-rule.md.
 */
export const UNKNOWN_SPREAD = 1.9;

/** The calibrated unknown rule, computed at training time and saved with the head. */
export interface UnknownRule {
  /** Per label, in the head's order: the mean of its examples' L2-normalised embeddings (not their copies), scaled to length 1. */
  centroids: Float32Array[];
  /** Cosine distance to the predicted label's centroid past which an image is unknown. */
  threshold: number;
}

function unitLength(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const length = Math.sqrt(sum);
  return length > 0 ? vector.map((value) => value / length) : new Float32Array(vector.length);
}

function dotProduct(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** 1 - cosine similarity: 0 in the centroid's direction, 1 at right angles. `centroid` has length 1. */
export function cosineDistance(embedding: Float32Array, centroid: Float32Array): number {
  return 1 - dotProduct(unitLength(embedding), centroid);
}

/** Centroids and threshold from the examples (every label of `labels` has at least 2). */
export function calibrateUnknownRule(examples: readonly TrainingExample[], labels: readonly string[]): UnknownRule {
  const distances: number[] = [];
  const centroids = labels.map((label) => {
    const own = examples.filter((example) => example.label === label).map(({ embedding }) => unitLength(embedding));
    const sum = new Float32Array(EMBEDDING_SIZE);
    for (const vector of own) for (let i = 0; i < sum.length; i++) sum[i]! += vector[i]!;
    // Leave-one-out: each example against the centroid of the others, as a new image is seen.
    for (const vector of own) distances.push(1 - dotProduct(vector, unitLength(sum.map((value, i) => value - vector[i]!))));
    return unitLength(sum);
  });
  const mean = distances.reduce((total, d) => total + d, 0) / distances.length;
  const sd = Math.sqrt(distances.reduce((total, d) => total + (d - mean) ** 2, 0) / Math.max(1, distances.length - 1));
  return { centroids, threshold: mean + UNKNOWN_SPREAD * sd };
}

/**
 * The rule of heads saved before the calibrated one ('spotter-head@1', which carry no centroids):
 * unknown below 1.5x chance as top probability, capped at 0.75. Such a head keeps it until the next
 * Retrain replaces the head, so nothing a user sees changes until then.
 */
export function legacyUnknownThreshold(labelCount: number): number {
  return Math.min(0.75, 1.5 / Math.max(1, labelCount));
}

/** The head's answer for one image: every label's score (best first), and whether it is none of them. */
export interface HeadPrediction {
  scores: LabelScore[];
  unknown: boolean;
}

export interface LabelScore {
  label: string;
  probability: number;
}

/** 'spotter-head@2' adds the unknown rule; 'spotter-head@1' heads (without it) still load. */
export type SerializedHead = SerializedHeadV1 | SerializedHeadV2;

export interface SerializedHeadV1 {
  format: 'spotter-head@1';
  labels: string[];
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

export interface SerializedHeadV2 extends Omit<SerializedHeadV1, 'format'> {
  format: 'spotter-head@2';
  /** The centroids as float32 values, label after label (labels x EMBEDDING_SIZE). */
  unknownRule: { threshold: number; centroids: ArrayBuffer };
}

export const SERIALIZED_HEAD_FORMAT = 'spotter-head@2';
const SERIALIZED_HEAD_FORMATS: readonly string[] = ['spotter-head@1', SERIALIZED_HEAD_FORMAT];

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

/**
 * Most folds of the cross-validated estimate. Fewer when the smallest label has fewer examples, so
 * that every fold holds out at least one example of every label (at least 2, as a label needs 2).
 */
export const MAX_FOLDS = 5;

/** How many folds a run on these examples (trainable labels only) uses. */
export function foldCount(examples: readonly TrainingExample[]): number {
  return Math.min(MAX_FOLDS, ...countByLabel(examples).values());
}

/**
 * Stratified folds: each example's fold (0..folds-1), in input order. Each label's examples are
 * shuffled with the label's own seeded stream, then dealt to the folds in turn, the dealing going on
 * from label to label (sorted), so the folds differ in size by at most one.
 */
export function assignFolds(examples: readonly TrainingExample[], folds: number, seed: number): Int32Array {
  if (!(Number.isInteger(folds) && folds >= 2)) throw new RangeError(`folds must be an integer of at least 2, got ${folds}`);
  const indicesByLabel = new Map<string, number[]>();
  examples.forEach(({ label }, index) => {
    const indices = indicesByLabel.get(label);
    if (indices) indices.push(index);
    else indicesByLabel.set(label, [index]);
  });
  const fold = new Int32Array(examples.length);
  let next = 0;
  for (const label of [...indicesByLabel.keys()].sort()) {
    const random = seededRandom(seed ^ fnv1a(Array.from({ length: label.length }, (_, i) => label.charCodeAt(i))));
    for (const index of shuffleInPlace([...indicesByLabel.get(label)!], random)) fold[index] = next++ % folds;
  }
  return fold;
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

/** The kept head as a plain TF.js layers model (saved, exported and loaded as one). */
function buildModel(classCount: number, options: TrainOptions): tf.Sequential {
  const model = tf.sequential();
  if (options.hiddenUnits > 0) {
    model.add(tf.layers.dense({ inputShape: [EMBEDDING_SIZE], units: options.hiddenUnits, activation: 'relu' }));
    // Not seeded on purpose: TF.js reuses a dropout seed for every batch, which drops the same units each time.
    model.add(tf.layers.dropout({ rate: options.dropoutRate }));
  }
  model.add(tf.layers.dense({ ...(options.hiddenUnits > 0 ? {} : { inputShape: [EMBEDDING_SIZE] }), units: classCount, activation: 'softmax' }));
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
  /**
   * [row, head]: the row's class weight for each head that trains on it (see classWeights, per
   * head), 0 for the fold head that holds its example out.
   */
  weights: Float32Array;
}

/**
 * The heads trained together: one per fold (trained without that fold's examples, copies
 * included) and, last, the kept head (trained on every example).
 */
interface Ensemble {
  heads: number;
  folds: number;
  /** Each example's fold. */
  foldOf: Int32Array;
}

function toRows(examples: readonly TrainingExample[], labels: readonly string[], maxCopies: number, ensemble: Ensemble): TrainingRows {
  const { heads, folds, foldOf } = ensemble;
  const weightsByHead = Array.from({ length: heads }, (_, head) => classWeights(labels, head < folds ? examples.filter((_, i) => foldOf[i] !== head) : examples, maxCopies));
  const vectors = examples.flatMap(({ embedding, distortions, label }, example) =>
    [embedding, ...(distortions ?? []).slice(0, maxCopies)].map((vector) => ({ vector, classIndex: labels.indexOf(label), fold: foldOf[example]! })),
  );
  const rows: TrainingRows = {
    count: vectors.length,
    features: new Float32Array(vectors.length * EMBEDDING_SIZE),
    classIndices: new Int32Array(vectors.length),
    weights: new Float32Array(vectors.length * heads),
  };
  vectors.forEach(({ vector, classIndex, fold }, row) => {
    rows.features.set(vector, row * EMBEDDING_SIZE);
    rows.classIndices[row] = classIndex;
    for (let head = 0; head < heads; head++) rows.weights[row * heads + head] = head === fold ? 0 : (weightsByHead[head]![classIndex] ?? 1);
  });
  return rows;
}

interface Batch {
  x: tf.Tensor2D;
  /** One-hot targets. */
  y: tf.Tensor2D;
  /** [rows, heads] */
  weights: tf.Tensor2D;
}

/** The rows order[start..end) as tensors. */
function batchOf(rows: TrainingRows, order: readonly number[], start: number, end: number, classCount: number, heads: number): Batch {
  const size = end - start;
  const features = new Float32Array(size * EMBEDDING_SIZE);
  const classIndices = new Int32Array(size);
  const weights = new Float32Array(size * heads);
  for (let i = 0; i < size; i++) {
    const row = order[start + i]!;
    features.set(rows.features.subarray(row * EMBEDDING_SIZE, (row + 1) * EMBEDDING_SIZE), i * EMBEDDING_SIZE);
    classIndices[i] = rows.classIndices[row]!;
    weights.set(rows.weights.subarray(row * heads, (row + 1) * heads), i * heads);
  }
  return tf.tidy(() => ({
    x: tf.tensor2d(features, [size, EMBEDDING_SIZE]),
    y: tf.cast(tf.oneHot(tf.tensor1d(classIndices, 'int32'), classCount), 'float32') as tf.Tensor2D,
    weights: tf.tensor2d(weights, [size, heads]),
  }));
}

/**
 * Every head's weights in a few tensors, so that one matMul and one optimizer step serve them all:
 * a step costs ~2 ms on WASM whatever its size, so k+1 heads together cost about what one did.
 * Adam works per value and the heads' losses are summed, so each head trains as it would alone.
 */
class StackedHeads {
  readonly variables: tf.Variable[];
  private readonly kernels: tf.Variable[];

  /**
   * Without a hidden layer: kernel [E, heads·C] (head h's columns h·C..), bias [heads·C].
   * With one of U units: kernel [E, heads·U], bias [heads·U], then kernel2 [heads, U, C], bias2 [heads, 1, C].
   */
  constructor(
    readonly heads: number,
    readonly classCount: number,
    private readonly options: TrainOptions,
  ) {
    const units = options.hiddenUnits;
    const glorot = (shape: [number, number], seed: number) => tf.initializers.glorotUniform({ seed }).apply(shape) as tf.Tensor2D;
    this.variables = tf.tidy(() => {
      const first = units > 0 ? units : classCount;
      const kernel = tf.concat(Array.from({ length: heads }, (_, head) => glorot([EMBEDDING_SIZE, first], options.seed + 2 * head)), 1);
      const variables = [tf.variable(kernel), tf.variable(tf.zeros([heads * first]))];
      if (units > 0) {
        const kernel2 = tf.stack(Array.from({ length: heads }, (_, head) => glorot([units, classCount], options.seed + 2 * head + 1)));
        variables.push(tf.variable(kernel2), tf.variable(tf.zeros([heads, 1, classCount])));
      }
      return variables;
    });
    // kernel, bias[, kernel2, bias2]: the L2 penalty is on the kernels only, as on the kept head's.
    this.kernels = this.variables.filter((_, i) => i % 2 === 0);
  }

  /** Softmax outputs of every head: [rows, heads, C]. */
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor3D {
    const [kernel, bias, kernel2, bias2] = this.variables;
    const rows = x.shape[0];
    const first = tf.add(tf.matMul(x, kernel!), bias!);
    if (!kernel2 || !bias2) return tf.softmax(tf.reshape(first, [rows, this.heads, this.classCount])) as tf.Tensor3D;
    let hidden: tf.Tensor = tf.relu(first);
    if (training && this.options.dropoutRate > 0) hidden = tf.dropout(hidden, this.options.dropoutRate);
    // [rows, heads·U] → [heads, rows, U] @ [heads, U, C] → [heads, rows, C] → [rows, heads, C]
    const byHead = tf.transpose(tf.reshape(hidden, [rows, this.heads, this.options.hiddenUnits]), [1, 0, 2]) as tf.Tensor3D;
    const logits = tf.add(tf.matMul(byHead, kernel2 as tf.Tensor3D), bias2);
    return tf.softmax(tf.transpose(logits, [1, 0, 2])) as tf.Tensor3D;
  }

  /** L2 penalty on every head's kernels (summed over heads, as each head's own penalty would be). */
  kernelPenalty(): tf.Scalar {
    return tf.addN(this.kernels.map((kernel) => tf.sum(tf.square(kernel)))) as tf.Scalar;
  }

  /** One head's weights, in the order and shapes of buildModel's layers. */
  weightsOf(head: number): tf.Tensor[] {
    const [kernel, bias, kernel2, bias2] = this.variables;
    const first = this.options.hiddenUnits > 0 ? this.options.hiddenUnits : this.classCount;
    return tf.tidy(() => {
      const own = [tf.slice(kernel!, [0, head * first], [EMBEDDING_SIZE, first]), tf.slice(bias!, [head * first], [first])];
      if (!kernel2 || !bias2) return own;
      return [...own, tf.reshape(tf.slice(kernel2, [head, 0, 0], [1, -1, -1]), [first, this.classCount]), tf.reshape(tf.slice(bias2, [head, 0, 0], [1, 1, -1]), [this.classCount])];
    });
  }

  snapshot(): tf.Tensor[] {
    // Clones share the data; the optimiser's updates replace a variable's data rather than write into it.
    return this.variables.map((variable) => tf.clone(variable));
  }

  restore(snapshot: readonly tf.Tensor[]): void {
    this.variables.forEach((variable, i) => variable.assign(snapshot[i]!));
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}

/**
 * Per-row, per-head cross-entropy of softmax outputs [rows, heads, C], clipped as tfjs-layers clips
 * it: by the backend's epsilon (1e-7 in float32; 1e-4 on WebGL with only half floats, where 1e-7 is
 * 0 and log(0) made every loss NaN).
 */
function crossEntropy(oneHot: tf.Tensor2D, probabilities: tf.Tensor3D): tf.Tensor2D {
  const epsilon = tf.backend().epsilon();
  return tf.neg(tf.sum(tf.mul(tf.expandDims(oneHot, 1), tf.log(tf.clipByValue(probabilities, epsilon, 1 - epsilon))), 2)) as tf.Tensor2D;
}

/** [rows, heads]: 1 where the head's top label is the true one. */
function hitsOf(oneHot: tf.Tensor2D, probabilities: tf.Tensor3D): tf.Tensor2D {
  return tf.cast(tf.equal(tf.argMax(probabilities, 2), tf.expandDims(tf.argMax(oneHot, 1), 1)), 'float32') as tf.Tensor2D;
}

/**
 * [summed cross-entropy, hits, rows] of the rows where `mask` [rows, heads] is 1: summed on the
 * device, read once an epoch.
 */
function maskedTotals(oneHot: tf.Tensor2D, probabilities: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor1D {
  return tf.stack([tf.sum(tf.mul(crossEntropy(oneHot, probabilities), mask)), tf.sum(tf.mul(hitsOf(oneHot, probabilities), mask)), tf.sum(mask)]) as tf.Tensor1D;
}

/**
 * One pass over the rows in `order`. Returns [summed cross-entropy, hits, rows] of the fold heads
 * on their training rows, each row as its batch saw it before the step (as fit reports it).
 */
async function trainOneEpoch(
  stack: StackedHeads,
  optimizer: tf.Optimizer,
  objective: (batch: Batch, probabilities: tf.Tensor3D) => tf.Scalar,
  rows: TrainingRows,
  order: readonly number[],
  batchSize: number,
  foldMask: tf.Tensor1D,
): Promise<[number, number, number]> {
  let totals: tf.Tensor1D = tf.zeros([3]);
  try {
    for (let start = 0; start < rows.count; start += batchSize) {
      const batch = batchOf(rows, order, start, Math.min(rows.count, start + batchSize), stack.classCount, stack.heads);
      const seen: { stats?: tf.Tensor1D } = {};
      try {
        optimizer.minimize(
          () => {
            const probabilities = stack.apply(batch.x, true);
            seen.stats = tf.keep(maskedTotals(batch.y, probabilities, tf.mul(tf.sign(batch.weights), foldMask)));
            return objective(batch, probabilities);
          },
          false,
          stack.variables,
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

/** Reads a totals tensor and disposes it. */
async function readTotals(totals: tf.Tensor1D): Promise<[number, number, number]> {
  try {
    const [lossSum = Number.NaN, hits = 0, count = 0] = await totals.data();
    return [lossSum, hits, count];
  } finally {
    totals.dispose();
  }
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** Each example once (no copies), with the one-hot [example, head] mask of the fold head that never saw it. */
interface OutOfFold {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  mask: tf.Tensor2D;
}

function outOfFoldOf(examples: readonly TrainingExample[], labels: readonly string[], ensemble: Ensemble): OutOfFold {
  const features = new Float32Array(examples.length * EMBEDDING_SIZE);
  examples.forEach(({ embedding }, i) => features.set(embedding, i * EMBEDDING_SIZE));
  return tf.tidy(() => ({
    x: tf.tensor2d(features, [examples.length, EMBEDDING_SIZE]),
    y: tf.cast(tf.oneHot(tf.tensor1d(examples.map(({ label }) => labels.indexOf(label)), 'int32'), labels.length), 'float32') as tf.Tensor2D,
    mask: tf.cast(tf.oneHot(tf.tensor1d(ensemble.foldOf, 'int32'), ensemble.heads), 'float32') as tf.Tensor2D,
  }));
}

/** Each example's label scores from the fold head that never saw it, sorted. */
async function outOfFoldPredictions(stack: StackedHeads, outOfFold: OutOfFold, labels: readonly string[]): Promise<LabelScore[][]> {
  const chosen = tf.tidy(() => tf.sum(tf.mul(stack.apply(outOfFold.x, false), tf.expandDims(outOfFold.mask, 2)), 1));
  let values: Float32Array;
  try {
    values = (await chosen.data()) as Float32Array;
  } finally {
    chosen.dispose();
  }
  const k = labels.length;
  return Array.from({ length: outOfFold.x.shape[0] }, (_, row) =>
    labels.map((label, column) => ({ label, probability: values[row * k + column]! })).sort((a, b) => b.probability - a.probability),
  );
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
  const folds = foldCount(usable);
  const ensemble: Ensemble = { heads: folds + 1, folds, foldOf: assignFolds(usable, folds, settings.seed) };

  const copies = copiesPerExample(usable.length);
  const rows = toRows(usable, labels, copies, ensemble);
  const batchSize = Math.max(settings.batchSize, Math.ceil(rows.count / MAX_STEPS_PER_EPOCH));

  // A plain training loop rather than tfjs-layers' fit: our own batching (see TrainingRows) makes a
  // step ~3x cheaper. Each head's objective is fit's: mean over its rows in the batch of (class
  // weight x cross-entropy), + L2 on its kernels.
  const stack = new StackedHeads(ensemble.heads, labels.length, settings);
  const optimizer = tf.train.adam(settings.learningRate);
  const objective = (batch: Batch, probabilities: tf.Tensor3D): tf.Scalar =>
    tf.tidy(() => {
      const perHead = tf.div(tf.sum(tf.mul(crossEntropy(batch.y, probabilities), batch.weights), 0), tf.maximum(tf.sum(tf.sign(batch.weights), 0), 1));
      return tf.add(tf.sum(perHead), tf.mul(settings.l2, stack.kernelPenalty())) as tf.Scalar;
    });
  // The curves are the fold heads': the training loss of the heads whose validation loss they show.
  const foldMask = tf.tensor1d(Array.from({ length: ensemble.heads }, (_, head) => (head < folds ? 1 : 0)));
  // Our own seeded shuffle, so a seed repeats a run exactly.
  const shuffleRandom = seededRandom(settings.seed ^ 0x5eed);
  const order = Array.from({ length: rows.count }, (_, row) => row);
  const epochs: EpochLog[] = [];
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let bestWeights: tf.Tensor[] | null = null;
  const outOfFold = outOfFoldOf(usable, labels, ensemble);
  let predictions: LabelScore[][];
  let model: tf.Sequential | null = null;
  try {
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      shuffleInPlace(order, shuffleRandom);
      const [lossSum, hits, trained] = await trainOneEpoch(stack, optimizer, objective, rows, order, batchSize, foldMask);
      const [validationLossSum, validationHits] = await readTotals(tf.tidy(() => maskedTotals(outOfFold.y, stack.apply(outOfFold.x, false), outOfFold.mask)));
      const log: EpochLog = {
        epoch,
        loss: finiteOrNull(lossSum / trained),
        accuracy: hits / trained,
        valLoss: finiteOrNull(validationLossSum / usable.length),
        valAccuracy: validationHits / usable.length,
      };
      epochs.push(log);
      onEpoch?.(log);
      await nextTask();

      // Early stopping and restore-best on the out-of-fold loss over every example, for all heads at once.
      const monitored = log.valLoss ?? Number.NaN;
      if (monitored < bestLoss) {
        bestLoss = monitored;
        bestEpoch = epoch;
        tf.dispose(bestWeights ?? []);
        bestWeights = stack.snapshot();
      } else if (epoch - bestEpoch >= settings.patience) {
        break;
      }
    }
    if (!bestWeights) throw new Error('Training went wrong: the loss was never a finite number. Try a smaller learning rate.');
    stack.restore(bestWeights);
    predictions = await outOfFoldPredictions(stack, outOfFold, labels);
    model = buildModel(labels.length, settings);
    const kept = stack.weightsOf(folds);
    model.setWeights(kept);
    tf.dispose(kept);
  } catch (error) {
    model?.dispose();
    throw error;
  } finally {
    tf.dispose([bestWeights ?? [], outOfFold.x, outOfFold.y, outOfFold.mask, foldMask]);
    stack.dispose();
    optimizer.dispose();
  }

  const truth = usable.map(({ label }) => label);
  const { accuracy, perLabelAccuracy, confusion } = evaluate(labels, truth, predictions);
  const foldAccuracies = Array.from({ length: folds }, (_, fold) => {
    const members = usable.flatMap((_, i) => (ensemble.foldOf[i] === fold ? [i] : []));
    return evaluate(labels, members.map((i) => truth[i]!), members.map((i) => predictions[i]!)).accuracy;
  });
  const head = new UserHead(model, labels, calibrateUnknownRule(usable, labels));
  return {
    head,
    report: {
      labels: [...labels],
      ignoredLabels,
      epochs,
      bestEpoch,
      evaluatedOn: 'cross-validation',
      folds,
      foldAccuracies,
      accuracy,
      perLabelAccuracy,
      confusion,
      trainCount: usable.length,
      validationCount: usable.length,
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
  const head = data as Partial<Record<keyof SerializedHeadV2, unknown>>;
  if (!SERIALIZED_HEAD_FORMATS.includes(head.format as string)) return `its format is ${JSON.stringify(head.format)}, expected "${SERIALIZED_HEAD_FORMAT}"`;
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
  return weightValuesProblem(weightSpecs as tf.io.WeightsManifestEntry[], weightData) ?? (head.format === SERIALIZED_HEAD_FORMAT ? unknownRuleProblem(head.unknownRule, labels.length) : null);
}

/** Checks the unknown rule of a 'spotter-head@2' head; returns the reason it is unusable, or null. */
function unknownRuleProblem(rule: unknown, labelCount: number): string | null {
  const { threshold, centroids } = (rule ?? {}) as Partial<Record<keyof SerializedHeadV2['unknownRule'], unknown>>;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) return 'its unknown rule has no threshold';
  if (!isArrayBuffer(centroids)) return "its unknown rule's centroids are not an ArrayBuffer";
  const expectedBytes = labelCount * EMBEDDING_SIZE * 4;
  if (centroids.byteLength !== expectedBytes) return `its unknown rule's centroids have ${centroids.byteLength} bytes, expected ${expectedBytes}`;
  if (!new Float32Array(centroids).every(Number.isFinite)) return "its unknown rule's centroids hold a value that is not a finite number";
  return null;
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

function unknownRuleOf(saved: SerializedHeadV2['unknownRule'], labelCount: number): UnknownRule {
  // A copy per label: the saved buffer may be shared or transferred by the caller.
  const values = new Float32Array(saved.centroids.slice(0));
  return { threshold: saved.threshold, centroids: Array.from({ length: labelCount }, (_, i) => values.slice(i * EMBEDDING_SIZE, (i + 1) * EMBEDDING_SIZE)) };
}

export class UserHead {
  readonly labels: readonly string[];
  private disposed = false;

  /** @param unknownRule null for a head saved without one ('spotter-head@1': see legacyUnknownThreshold). */
  constructor(
    private readonly model: tf.LayersModel,
    labels: readonly string[],
    readonly unknownRule: UnknownRule | null,
  ) {
    const inputShape = model.inputs[0]?.shape;
    const outputShape = model.outputs[0]?.shape;
    if (model.inputs.length !== 1 || inputShape?.length !== 2 || inputShape[1] !== EMBEDDING_SIZE) {
      throw new Error(`The head's input must be [batch, ${EMBEDDING_SIZE}] (got ${JSON.stringify(model.inputs.map((input) => input.shape))}).`);
    }
    if (model.outputs.length !== 1 || outputShape?.length !== 2 || outputShape[1] !== labels.length) {
      throw new Error(`The head has ${String(outputShape?.[1])} outputs but ${labels.length} labels.`);
    }
    if (unknownRule && unknownRule.centroids.length !== labels.length) throw new Error(`The head's unknown rule has ${unknownRule.centroids.length} centroids but ${labels.length} labels.`);
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

  /** The scores, and whether the image is none of the labels (its best guess still comes first). */
  async classify(embedding: Float32Array): Promise<HeadPrediction> {
    const [prediction] = await this.classifyMany([embedding]);
    return prediction!;
  }

  async classifyMany(embeddings: readonly Float32Array[]): Promise<HeadPrediction[]> {
    const predictions = await this.predictMany(embeddings);
    return predictions.map((scores, i) => ({ scores, unknown: this.isUnknown(embeddings[i]!, scores[0]!) }));
  }

  private isUnknown(embedding: Float32Array, best: LabelScore): boolean {
    if (!this.unknownRule) return best.probability < legacyUnknownThreshold(this.labels.length);
    const centroid = this.unknownRule.centroids[this.labels.indexOf(best.label)]!;
    return cosineDistance(embedding, centroid) > this.unknownRule.threshold;
  }

  async serialize(): Promise<SerializedHead> {
    this.checkUsable();
    const { modelTopology, weightSpecs, weightData } = await modelArtifacts(this.model);
    const saved = { labels: [...this.labels], modelTopology, weightSpecs, weightData };
    // A head loaded without a rule is saved as it came.
    if (!this.unknownRule) return { format: 'spotter-head@1', ...saved };
    const centroids = new Float32Array(this.labels.length * EMBEDDING_SIZE);
    this.unknownRule.centroids.forEach((centroid, i) => centroids.set(centroid, i * EMBEDDING_SIZE));
    return { format: SERIALIZED_HEAD_FORMAT, ...saved, unknownRule: { threshold: this.unknownRule.threshold, centroids: centroids.buffer } };
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
      head = new UserHead(model, data.labels, data.format === SERIALIZED_HEAD_FORMAT ? unknownRuleOf(data.unknownRule, data.labels.length) : null);
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
