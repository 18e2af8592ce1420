/**
 * The one-file export of everything the user taught Spotter: examples (embeddings, thumbnails,
 * labels, URLs) and the trained head. Importing validates the whole file before anything is
 * written, so a malformed or foreign file changes nothing.
 */
import * as v from 'valibot';
import type { SerializedHead } from '../engine/head';
import { weightValuesProblem } from '../engine/head-weights';
import { EMBEDDING_SIZE } from '../engine/train-options';
import { fromBase64, toBase64 } from '../shared/base64';
import { nonFinitePath } from '../shared/finite';
import { SpotterError } from '../shared/errors';
import { MODEL_IDS } from '../shared/models';
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

/** A kept picture is at most 384 px on its long side: a few hundred KB as a data: URL at the very most. */
const MAX_PICTURE_URL_LENGTH = 2 * 1024 * 1024;

const ExampleFileSchema = v.object({
  label: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(60)),
  // Optional: files from before Spotter had a second backbone were all made with MobileNet v2.
  model: v.optional(v.picklist(MODEL_IDS)),
  // Optional: files from before Spotter kept pictures. With it, another backbone can embed the example again.
  picture: v.optional(v.pipe(v.string(), v.startsWith('data:image/'), v.maxLength(MAX_PICTURE_URL_LENGTH))),
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
  model: v.optional(v.picklist(MODEL_IDS)),
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

type FileExample = v.InferInput<typeof ExampleFileSchema>;
type FileHead = v.InferInput<typeof HeadFileSchema>;

function exampleToFile(e: ExampleRecord): FileExample {
  return {
    label: e.label,
    ...(e.model ? { model: e.model } : {}),
    ...(e.picture ? { picture: e.picture } : {}),
    embedding: floatsToBase64(e.embedding),
    ...(e.distortions ? { distortions: e.distortions.map(floatsToBase64) } : {}),
    thumbnail: e.thumbnail,
    imageUrl: e.imageUrl,
    pageUrl: e.pageUrl,
    createdAt: e.createdAt,
  };
}

function headToFile(head: HeadRecord): FileHead {
  return {
    ...(head.model ? { model: head.model } : {}),
    labels: head.head.labels,
    ...(head.head.format === 'spotter-head@2' ? { unknownRule: { threshold: head.head.unknownRule.threshold, centroids: toBase64(head.head.unknownRule.centroids) } } : {}),
    modelTopology: head.head.modelTopology as Record<string, unknown>,
    weightSpecs: head.head.weightSpecs as unknown as FileHead['weightSpecs'],
    weightData: toBase64(head.head.weightData),
    report: head.report,
    trainedAt: head.trainedAt,
  };
}

const fileOf = (examples: FileExample[], head: FileHead | null, exportedAt: number): v.InferInput<typeof DatasetFileSchema> => ({ format: DATASET_FORMAT, exportedAt, examples, head });

export function serializeDataset(examples: readonly ExampleRecord[], head: HeadRecord | undefined): string {
  return JSON.stringify(fileOf(examples.map(exampleToFile), head ? headToFile(head) : null, Date.now()));
}

/** Why a part of a dataset would not import, or null: checked by the import's own rules. */
function importProblem(examples: FileExample[], head: FileHead | null): string | null {
  try {
    parseDatasetJson(fileOf(examples, head, 0));
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Why a stored head could not go into a file that imports again (a report or weights that are not numbers), or null. */
function headRecordProblem(head: HeadRecord): string | null {
  try {
    return importProblem([], headToFile(head));
  } catch (error) {
    // Too damaged even to write out (weights that are not an ArrayBuffer).
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * The export of what can be read: each example and the head go in only if the import would take
 * them back, so that one damaged record (an older version's import, a damaged disk) neither stops
 * the export nor makes the file refuse to import. Says how many it left out.
 */
export function exportableDataset(examples: readonly ExampleRecord[], head: HeadRecord | undefined | null): { text: string; leftOut: { examples: number; model: boolean } } {
  const files = examples.flatMap((example) => {
    try {
      const file = exampleToFile(example);
      return importProblem([file], null) ? [] : [file];
    } catch {
      return []; // an embedding that is not a Float32Array
    }
  });
  const readableHead = head && !headRecordProblem(head) ? headToFile(head) : null;
  return {
    text: JSON.stringify(fileOf(files, readableHead, Date.now())),
    leftOut: { examples: examples.length - files.length, model: Boolean(head) && !readableHead },
  };
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
  return parseDatasetJson(json);
}

function parseDatasetJson(json: unknown): ParsedDataset {
  if (typeof json !== 'object' || json === null || (json as { format?: unknown }).format !== DATASET_FORMAT) {
    throw new SpotterError('bad-message', `This file is not a Spotter dataset (expected format "${DATASET_FORMAT}"). Nothing was changed.`);
  }
  // Anywhere in the file: JSON reads 1e309 as Infinity, which no answer can carry, and a date or a
  // report figure of Infinity would make every answer about the dataset fail after the import.
  const nonFinite = nonFinitePath(json);
  if (nonFinite) throw damaged(`${nonFinite}: a number too large to use`);
  const parsed = v.safeParse(DatasetFileSchema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
    throw new SpotterError('bad-message', `This Spotter dataset is damaged (${where}: ${issue?.message}). Nothing was changed.`);
  }
  const file = parsed.output;
  const examples = file.examples.map((e, index) => ({
    label: labelOfExample(e.label, index),
    ...(e.model ? { model: e.model } : {}),
    ...(e.picture ? { picture: e.picture } : {}),
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
    head = { ...(file.head.model ? { model: file.head.model } : {}), head: serialized, report: file.head.report, trainedAt: file.head.trainedAt };
  }
  // One NaN weight would fail every classification after the import.
  const weights = head && weightValuesProblem(head.head.weightSpecs, head.head.weightData);
  if (weights) throw damaged(`the model: ${weights}`);
  return { examples, head };
}
