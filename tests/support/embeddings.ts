/** MobileNet embeddings of the shared retraining photos, computed once per test process. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { SpotterEngine } from '../../src/engine/engine';
import { distortionSeedOf } from '../../src/engine/distort';
import { seededRandom } from '../../src/engine/seeded-random';
import type { TrainingExample } from '../../src/engine/head';
import { decodeJpeg } from './photos';

export interface EmbeddedPhoto extends TrainingExample {
  file: string;
}

/** label → photos of that label, sorted by file name (so "the first 12" means the same files everywhere). */
export type EmbeddedDataset = Map<string, EmbeddedPhoto[]>;

const cache = new Map<string, Promise<EmbeddedDataset>>();

/**
 * Embeds every .jpg of `dir/<label>/` (plus its distorted copies), one sub-folder per label.
 * Cached per folder, since the real model takes ~50 ms a view on WASM and several tests want them.
 */
export function embedFolder(engine: SpotterEngine, dir: string): Promise<EmbeddedDataset> {
  let result = cache.get(dir);
  if (!result) {
    result = computeEmbeddings(engine, dir);
    // A failed run should not poison later callers.
    result.catch(() => cache.delete(dir));
    cache.set(dir, result);
  }
  return result;
}

async function computeEmbeddings(engine: SpotterEngine, dir: string): Promise<EmbeddedDataset> {
  // Tensors can only be made once the backend is up.
  await engine.ready();
  const dataset: EmbeddedDataset = new Map();
  const labels = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  for (const label of labels) {
    const files = readdirSync(path.join(dir, label))
      .filter((file) => /\.jpe?g$/i.test(file))
      .sort();
    const photos: EmbeddedPhoto[] = [];
    for (const file of files) {
      const pixels = decodeJpeg(path.join(dir, label, file));
      try {
        const { embedding } = await engine.classify(pixels);
        // As the extension does when an example is labelled: the head also trains on distorted copies.
        const distortions = await engine.distortedEmbeddings(pixels, distortionSeedOf(embedding));
        photos.push({ file, label, embedding, distortions });
      } finally {
        pixels.dispose();
      }
    }
    dataset.set(label, photos);
  }
  return dataset;
}

/** Splits each label's sorted photos: the first `trainPerLabel` to train, the rest to test. */
export function splitByFileOrder(dataset: EmbeddedDataset, trainPerLabel: number): { train: EmbeddedPhoto[]; test: EmbeddedPhoto[] } {
  const train: EmbeddedPhoto[] = [];
  const test: EmbeddedPhoto[] = [];
  for (const photos of dataset.values()) {
    train.push(...photos.slice(0, trainPerLabel));
    test.push(...photos.slice(trainPerLabel));
  }
  return { train, test };
}

const photoCache = new Map<string, Promise<EmbeddedPhoto[]>>();

/** Embeds every .jpg directly in `dir`, each labelled with its file name (no distorted copies: these are only ever shown to a head). */
export function embedPhotos(engine: SpotterEngine, dir: string): Promise<EmbeddedPhoto[]> {
  let result = photoCache.get(dir);
  if (!result) {
    result = (async () => {
      await engine.ready();
      const photos: EmbeddedPhoto[] = [];
      for (const file of readdirSync(dir).filter((name) => /\.jpe?g$/i.test(name)).sort()) {
        const pixels = decodeJpeg(path.join(dir, file));
        try {
          photos.push({ file, label: file, embedding: (await engine.classify(pixels)).embedding });
        } finally {
          pixels.dispose();
        }
      }
      return photos;
    })();
    result.catch(() => photoCache.delete(dir));
    photoCache.set(dir, result);
  }
  return result;
}

/** A seeded random split: each label's photos (labels in sorted order) shuffled by one seeded stream, the first `trainPerLabel` to train. */
export function splitRandomly(dataset: EmbeddedDataset, trainPerLabel: number, seed: number): { train: EmbeddedPhoto[]; test: EmbeddedPhoto[] } {
  const random = seededRandom(seed);
  const train: EmbeddedPhoto[] = [];
  const test: EmbeddedPhoto[] = [];
  for (const label of [...dataset.keys()].sort()) {
    const photos = [...dataset.get(label)!];
    for (let i = photos.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [photos[i], photos[j]] = [photos[j]!, photos[i]!];
    }
    train.push(...photos.slice(0, trainPerLabel));
    test.push(...photos.slice(trainPerLabel));
  }
  return { train, test };
}
