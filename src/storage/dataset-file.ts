/**
 * The one-file export of everything the user taught Spotter: examples (embeddings, thumbnails,
 * labels, URLs) and the trained head. Importing validates the whole file before anything is
 * written, so a malformed or foreign file changes nothing.
 */
import * as v from 'valibot';
import type { SerializedHead } from '../engine/head';
import { EMBEDDING_SIZE } from '../engine/train-options';
import { fromBase64, toBase64 } from '../shared/base64';
import { SpotterError } from '../shared/errors';
import { TrainingReportSchema } from '../shared/protocol';
import type { ExampleRecord, HeadRecord } from './database';
import { normaliseLabel } from './dataset';

export const DATASET_FORMAT = 'spotter-dataset@1';

function floatsToBase64(floats: Float32Array): string {
  return toBase64(new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength));
}

const Base64 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64'));

const EmbeddingBase64 = v.pipe(Base64, v.length(4 * Math.ceil((EMBEDDING_SIZE * 4) / 3), `embeddings must hold ${EMBEDDING_SIZE} floats`));
/** More copies than Spotter ever makes means the file was not written by Spotter. */
const MAX_DISTORTIONS = 64;

const ExampleFileSchema = v.object({
  label: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(60)),
  embedding: EmbeddingBase64,
  // Optional: files exported before Spotter made distorted copies have none.
  distortions: v.optional(v.pipe(v.array(EmbeddingBase64), v.maxLength(MAX_DISTORTIONS))),
  thumbnail: v.pipe(v.string(), v.startsWith('data:image/')),
  imageUrl: v.string(),
  pageUrl: v.string(),
  createdAt: v.number(),
});

/** The head's unknown rule (engine/head.ts UnknownRule); absent in files of heads saved without one. */
const UnknownRuleFileSchema = v.object({
  threshold: v.pipe(v.number(), v.finite()),
  /** float32 values, label after label, in base64 (UserHead.deserialize checks the size). */
  centroids: Base64,
});

const HeadFileSchema = v.object({
  labels: v.array(v.string()),
  unknownRule: v.optional(UnknownRuleFileSchema),
  modelTopology: v.record(v.string(), v.unknown()),
  weightSpecs: v.array(v.looseObject({ name: v.string(), shape: v.array(v.number()), dtype: v.string() })),
  weightData: Base64,
  report: TrainingReportSchema,
  trainedAt: v.number(),
});

const DatasetFileSchema = v.object({
  format: v.literal(DATASET_FORMAT),
  exportedAt: v.number(),
  examples: v.array(ExampleFileSchema),
  head: v.nullable(HeadFileSchema),
});

export function serializeDataset(examples: readonly ExampleRecord[], head: HeadRecord | undefined): string {
  const file: v.InferInput<typeof DatasetFileSchema> = {
    format: DATASET_FORMAT,
    exportedAt: Date.now(),
    examples: examples.map((e) => ({
      label: e.label,
      embedding: floatsToBase64(e.embedding),
      ...(e.distortions ? { distortions: e.distortions.map(floatsToBase64) } : {}),
      thumbnail: e.thumbnail,
      imageUrl: e.imageUrl,
      pageUrl: e.pageUrl,
      createdAt: e.createdAt,
    })),
    head: head
      ? {
          labels: head.head.labels,
          ...(head.head.format === 'spotter-head@2' ? { unknownRule: { threshold: head.head.unknownRule.threshold, centroids: toBase64(head.head.unknownRule.centroids) } } : {}),
          modelTopology: head.head.modelTopology as Record<string, unknown>,
          weightSpecs: head.head.weightSpecs as unknown as v.InferInput<typeof HeadFileSchema>['weightSpecs'],
          weightData: toBase64(head.head.weightData),
          report: head.report,
          trainedAt: head.trainedAt,
        }
      : null,
  };
  return JSON.stringify(file);
}

export interface ParsedDataset {
  examples: Omit<ExampleRecord, 'id'>[];
  head: HeadRecord | null;
}

/** An example's label under the rules labels typed in Spotter follow (normaliseLabel). */
function labelOfExample(label: string, index: number): string {
  try {
    return normaliseLabel(label);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SpotterError('bad-message', `This Spotter dataset is damaged (example ${index + 1}, label ${JSON.stringify(label)}: ${reason}). Nothing was changed.`);
  }
}

function labelOfHead(label: string, index: number): string {
  try {
    return normaliseLabel(label);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SpotterError('bad-message', `This Spotter dataset is damaged (the model's label ${index + 1}, ${JSON.stringify(label)}: ${reason}). Nothing was changed.`);
  }
}

function damaged(what: string): SpotterError {
  return new SpotterError('bad-message', `This Spotter dataset is damaged (${what}). Nothing was changed.`);
}

/** The bytes of a base64 field: the schema checks the alphabet, but atob still refuses some lengths and paddings. */
function bytesOf(text: string, what: string): Uint8Array<ArrayBuffer> {
  try {
    return fromBase64(text);
  } catch {
    throw damaged(`${what}: not valid base64`);
  }
}

/** An embedding: its text has the right length, but padding decides whether it decodes to exactly EMBEDDING_SIZE floats. */
function embeddingOf(text: string): Float32Array {
  const bytes = bytesOf(text, 'an embedding');
  if (bytes.byteLength !== EMBEDDING_SIZE * 4) throw damaged('an embedding has the wrong size');
  return new Float32Array(bytes.buffer);
}

export function parseDataset(text: string): ParsedDataset {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SpotterError('bad-message', 'This file is not a Spotter dataset (it is not JSON). Nothing was changed.');
  }
  if (typeof json !== 'object' || json === null || (json as { format?: unknown }).format !== DATASET_FORMAT) {
    throw new SpotterError('bad-message', `This file is not a Spotter dataset (expected format "${DATASET_FORMAT}"). Nothing was changed.`);
  }
  const parsed = v.safeParse(DatasetFileSchema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
    throw new SpotterError('bad-message', `This Spotter dataset is damaged (${where}: ${issue?.message}). Nothing was changed.`);
  }
  const file = parsed.output;
  const examples = file.examples.map((e, index) => ({
    label: labelOfExample(e.label, index),
    embedding: embeddingOf(e.embedding),
    ...(e.distortions ? { distortions: e.distortions.map(embeddingOf) } : {}),
    thumbnail: e.thumbnail,
    imageUrl: e.imageUrl,
    pageUrl: e.pageUrl,
    createdAt: e.createdAt,
  }));
  const vectors = examples.flatMap((e) => [e.embedding, ...(e.distortions ?? [])]);
  if (!vectors.every((vector) => vector.every(Number.isFinite))) throw damaged('an embedding holds a value that is not a number');
  // The head's labels show in every overlay: the same rules as the examples' labels, each once.
  const headLabels = file.head?.labels.map((label, index) => labelOfHead(label, index)) ?? [];
  if (new Set(headLabels).size !== headLabels.length) throw new SpotterError('bad-message', 'This Spotter dataset is damaged (the model names a label twice). Nothing was changed.');
  let head: HeadRecord | null = null;
  if (file.head) {
    const saved = {
      labels: headLabels,
      modelTopology: file.head.modelTopology,
      weightSpecs: file.head.weightSpecs as unknown as SerializedHead['weightSpecs'],
      weightData: bytesOf(file.head.weightData, "the model's weights").buffer,
    };
    const rule = file.head.unknownRule;
    // A head without a rule is one saved before Spotter had it, and loads as such.
    const serialized: SerializedHead = rule
      ? { format: 'spotter-head@2', ...saved, unknownRule: { threshold: rule.threshold, centroids: bytesOf(rule.centroids, "the model's unknown rule").buffer } }
      : { format: 'spotter-head@1', ...saved };
    head = { head: serialized, report: file.head.report, trainedAt: file.head.trainedAt };
  }
  return { examples, head };
}
