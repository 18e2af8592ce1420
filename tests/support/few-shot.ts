/**
 * Few-shot accuracy of the real head on a backbone's embeddings of the shared retrain sets, over
 * seeded random splits: what decides between backbones and views (scripts/measure-views.ts, the
 * backbone unit test). One embedding per photo per engine, with its 8 distorted copies as the
 * extension makes them.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { SpotterEngine } from '../../src/engine/engine';
import { distortionSeedOf } from '../../src/engine/distort';
import { trainHead, type TrainingExample } from '../../src/engine/head';
import { seededRandom } from '../../src/engine/seeded-random';
import { decodeJpeg, RETRAIN_DIR } from './photos';

export const RETRAIN_SETS = ['flower_photos', 'hymenoptera'] as const;

export interface SplitPhoto {
  label: string;
  embedding: Float32Array;
  distortions: Float32Array[];
}

/** Every photo of a retrain set, label by label, sorted by file name. */
export function retrainPhotoFiles(set: string): { label: string; file: string }[] {
  const dir = path.join(RETRAIN_DIR, set);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .flatMap((label) =>
      readdirSync(path.join(dir, label))
        .filter((f) => /\.jpe?g$/i.test(f))
        .sort()
        .map((f) => ({ label, file: path.join(dir, label, f) })),
    );
}

export async function embedRetrainSet(engine: SpotterEngine, set: string): Promise<SplitPhoto[]> {
  const photos: SplitPhoto[] = [];
  for (const { label, file } of retrainPhotoFiles(set)) {
    const pixels = decodeJpeg(file);
    try {
      const { embedding } = await engine.classify(pixels);
      photos.push({ label, embedding, distortions: await engine.distortedEmbeddings(pixels, distortionSeedOf(embedding)) });
    } finally {
      pixels.dispose();
    }
  }
  return photos;
}

/** The photos of split `split`: per label, a seeded shuffle, the first `trainPerLabel` to train, the rest to test. */
export function randomSplit<T extends { label: string }>(photos: readonly T[], split: number, trainPerLabel: number): { train: T[]; test: T[] } {
  const random = seededRandom(1000 + split);
  const train: T[] = [];
  const test: T[] = [];
  for (const label of [...new Set(photos.map((p) => p.label))]) {
    const shuffled = photos.filter((p) => p.label === label).map((p) => ({ p, key: random() })).sort((a, b) => a.key - b.key).map(({ p }) => p);
    train.push(...shuffled.slice(0, trainPerLabel));
    test.push(...shuffled.slice(trainPerLabel));
  }
  return { train, test };
}

/** Test accuracy of the head (default options, seeded per split) on each of `splits` random splits. */
export async function fewShotAccuracies(photos: readonly SplitPhoto[], splits = 10, trainPerLabel = 12): Promise<number[]> {
  const accuracies: number[] = [];
  for (let split = 0; split < splits; split++) {
    const { train, test } = randomSplit(photos, split, trainPerLabel);
    const examples: TrainingExample[] = train.map(({ label, embedding, distortions }) => ({ label, embedding, distortions }));
    const { head } = await trainHead(examples, { seed: split });
    try {
      const predictions = await head.predictMany(test.map((p) => p.embedding));
      accuracies.push(predictions.filter((scores, i) => scores[0]!.label === test[i]!.label).length / test.length);
    } finally {
      head.dispose();
    }
  }
  return accuracies;
}

export const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
export const standardDeviation = (values: readonly number[]): number => Math.sqrt(mean(values.map((v) => (v - mean(values)) ** 2)));
