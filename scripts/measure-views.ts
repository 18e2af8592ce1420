/**
 * `npx tsx scripts/measure-views.ts`: how each backbone should see an image (fit mode: squash or
 * centre crop), measured on every shared photo set, for docs/decisions/fit-mode-and-resampling.md. A measurement,
 * never a test: it prints a markdown table and writes test-results/views.json.
 *   - ImageNet: top-1 on the 15 shared photos and the mean probability of the right class.
 *   - Few-shot: the real head (trainHead, its default options, 8 distorted copies an example) on
 *     10 seeded random splits of each retrain set, 12 photos a label to train and 6 to test; mean
 *     and standard deviation of the test accuracy, the same splits for every configuration.
 * The distorted copies are crops of the centred square whatever the fit mode, so each photo's
 * copies are embedded once per model and only the plain view is embedded per fit mode.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { distortionSeedOf } from '../src/engine/distort';
import { trainHead, type TrainingExample } from '../src/engine/head';
import { FIT_MODES } from '../src/engine/preprocess';
import { MODEL_IDS, MODELS, type FitMode, type ModelId } from '../src/shared/models';
import { nodeEngine } from '../tests/support/engine';
import { mean, randomSplit, RETRAIN_SETS, retrainPhotoFiles, standardDeviation as sd } from '../tests/support/few-shot';
import { decodeJpeg, labelledPhotos } from '../tests/support/photos';
import { ROOT } from './paths';

const SPLITS = 10;
const TRAIN_PER_LABEL = 12;

interface Photo {
  label: string;
  plain: Record<FitMode, Float32Array>;
  copies: Float32Array[];
}

const pct = (value: number) => `${(100 * value).toFixed(1)} %`;

async function measure(id: ModelId) {
  const engines = Object.fromEntries(FIT_MODES.map((fitMode) => [fitMode, nodeEngine({ descriptor: MODELS[id], fitMode })])) as Record<FitMode, ReturnType<typeof nodeEngine>>;
  for (const engine of Object.values(engines)) await engine.ready();
  const rows: Record<string, unknown>[] = [];
  for (const fitMode of FIT_MODES) {
    let top1 = 0;
    let trueProbability = 0;
    for (const photo of labelledPhotos()) {
      const pixels = decodeJpeg(photo.path);
      const { imagenet } = await engines[fitMode].classify(pixels, 1000);
      pixels.dispose();
      const expected = photo.expected.toLowerCase();
      if (imagenet[0]!.fullName.toLowerCase().includes(expected)) top1++;
      trueProbability += imagenet.filter((c) => c.fullName.toLowerCase().includes(expected)).reduce((sum, c) => sum + c.probability, 0);
    }
    rows.push({ model: id, fitMode, set: 'imagenet-15', top1, meanTrueProbability: trueProbability / 15 });
  }
  for (const set of RETRAIN_SETS) {
    const photos: Photo[] = [];
    for (const { label, file } of retrainPhotoFiles(set)) {
      const pixels = decodeJpeg(file);
      const plain = {} as Record<FitMode, Float32Array>;
      for (const fitMode of FIT_MODES) plain[fitMode] = (await engines[fitMode].classify(pixels)).embedding;
      // As the extension seeds them: from the embedding of the view it classifies (center-crop here for both).
      const copies = await engines['center-crop'].distortedEmbeddings(pixels, distortionSeedOf(plain['center-crop']));
      pixels.dispose();
      photos.push({ label, plain, copies });
    }
    for (const fitMode of FIT_MODES) {
      const accuracies: number[] = [];
      for (let split = 0; split < SPLITS; split++) {
        const { train, test } = randomSplit(photos, split, TRAIN_PER_LABEL);
        const examples: TrainingExample[] = train.map((p) => ({ label: p.label, embedding: p.plain[fitMode], distortions: p.copies }));
        const { head } = await trainHead(examples, { seed: split });
        const predictions = await head.predictMany(test.map((p) => p.plain[fitMode]));
        head.dispose();
        accuracies.push(mean(predictions.map((scores, i) => (scores[0]!.label === test[i]!.label ? 1 : 0))));
      }
      rows.push({ model: id, fitMode, set, mean: mean(accuracies), sd: sd(accuracies), min: Math.min(...accuracies), max: Math.max(...accuracies), accuracies });
    }
  }
  for (const engine of Object.values(engines)) await engine.dispose();
  return rows;
}

await tf.ready();
const all: Record<string, unknown>[] = [];
for (const id of MODEL_IDS) all.push(...(await measure(id)));
console.log('\n| model | fit | ImageNet top-1 (15) | mean p(right class) | flowers, 10 splits | hymenoptera, 10 splits |');
console.log('|---|---|---|---|---|---|');
for (const id of MODEL_IDS) {
  for (const fitMode of FIT_MODES) {
    const of = (set: string) => all.find((r) => r.model === id && r.fitMode === fitMode && r.set === set)!;
    const imagenet = of('imagenet-15') as { top1: number; meanTrueProbability: number };
    const few = (set: string) => {
      const r = of(set) as { mean: number; sd: number; min: number; max: number };
      return `${pct(r.mean)} ± ${pct(r.sd)} (${pct(r.min)}–${pct(r.max)})`;
    };
    console.log(`| ${id} | ${fitMode} | ${imagenet.top1}/15 | ${imagenet.meanTrueProbability.toFixed(3)} | ${few('flower_photos')} | ${few('hymenoptera')} |`);
  }
}
await mkdir(path.join(ROOT, 'test-results'), { recursive: true });
await writeFile(path.join(ROOT, 'test-results', 'views.json'), JSON.stringify({ date: new Date().toISOString(), rows: all }, null, 2));
