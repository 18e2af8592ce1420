/**
 * The head's input size, training options and their defaults. No TF.js here: the popup imports
 * this (the Advanced section's defaults, the export file's checks). Why these values:
 * docs/decisions/head.md.
 */

/** Length of MobileNet v2's pooled embedding, the head's input. */
export const EMBEDDING_SIZE = 1280;

export interface TrainOptions {
  /** Most epochs; early stopping usually ends sooner. */
  epochs: number;
  /** Adam's learning rate. */
  learningRate: number;
  /** At least this many examples a step (see MAX_STEPS_PER_EPOCH in head.ts). */
  batchSize: number;
  /** 0: one Dense+softmax on the embedding; >0: Dense(relu) + Dropout + Dense(softmax). */
  hiddenUnits: number;
  /** Dropout after the hidden layer (unused when hiddenUnits is 0). */
  dropoutRate: number;
  /** L2 penalty on the Dense kernels: with a handful of examples per label it keeps the head from memorising them. */
  l2: number;
  /** Epochs without a better out-of-fold validation loss before stopping. */
  patience: number;
  /** Seeds the folds, the weight initialisers and the shuffling, so a run repeats exactly (dropout excepted). */
  seed: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  epochs: 30,
  learningRate: 0.001,
  batchSize: 16,
  hiddenUnits: 0,
  dropoutRate: 0.2,
  l2: 0.03,
  patience: 10,
  seed: 42,
};

/** What the options a user may set in the popup's Advanced section accept (the protocol enforces the same). */
export const TRAIN_OPTION_LIMITS = {
  epochs: { min: 1, max: 500, integer: true },
  learningRate: { min: 0.00001, max: 1, integer: false },
  batchSize: { min: 1, max: 1024, integer: true },
  hiddenUnits: { min: 0, max: 1024, integer: true },
} as const;
