/** The user's labelled examples and their edits. Label names are trimmed and never empty. */
import { SpotterError } from '../shared/errors';
import { normaliseLabel } from '../shared/labels';
import type { ModelId } from '../shared/models';
import { database, MODEL_OF_OLD_RECORDS, write, type ExampleFeatures, type ExampleMeta, type ExampleRecord, type HeadRecord } from './database';

// The rules live in shared/ so that the popup can check a label before it reads any file.
export { MAX_LABEL_LENGTH, normaliseLabel } from '../shared/labels';

/** The labels in use, each once (read from the label index: no example is deserialised). */
export async function labelNames(): Promise<string[]> {
  const names: string[] = [];
  const index = (await database()).transaction('examples').store.index('label');
  for (let cursor = await index.openKeyCursor(null, 'nextunique'); cursor; cursor = await cursor.continue()) names.push(cursor.key);
  return names;
}

/**
 * The label to store for what the user typed: normalised, and spelled like an existing label that
 * differs only in case ("Tulips" joins "tulips" rather than becoming a look-alike second class).
 */
export async function canonicalLabel(raw: string, ignore?: string): Promise<string> {
  const label = normaliseLabel(raw);
  const existing = (await labelNames()).find((name) => name !== ignore && name.toLowerCase() === label.toLowerCase());
  return existing ?? label;
}

export async function addExample(example: Omit<ExampleRecord, 'id'>): Promise<ExampleRecord> {
  const label = await canonicalLabel(example.label);
  const { meta, features, picture } = splitExample({ ...example, label });
  const id = await write(['examples', 'features', 'pictures'], async (tx) => {
    const id = await tx.objectStore('examples').add(meta);
    await tx.objectStore('features').add(features, id);
    if (picture) await tx.objectStore('pictures').add(picture, id);
    return id;
  });
  return { ...meta, ...features, id };
}

/** Every example without its embeddings: what lists show. */
export async function exampleList(): Promise<ExampleMeta[]> {
  return (await database()).getAll('examples');
}

/** Every example with its embeddings (what training needs), and with `withPictures` their pictures too (export). */
export async function allExamples({ withPictures = false } = {}): Promise<ExampleRecord[]> {
  const tx = (await database()).transaction(['examples', 'features', 'pictures']);
  const [metas, features, ids, pictures, pictureIds] = await Promise.all([
    tx.objectStore('examples').getAll(),
    tx.objectStore('features').getAll(),
    tx.objectStore('features').getAllKeys(),
    withPictures ? tx.objectStore('pictures').getAll() : [],
    withPictures ? tx.objectStore('pictures').getAllKeys() : [],
  ]);
  const featuresById = new Map(ids.map((id, i) => [id, features[i]!]));
  const picturesById = new Map(pictureIds.map((id, i) => [id, pictures[i]!]));
  return metas.map((meta) => {
    const found = featuresById.get(meta.id!);
    // Both stores change in the same transactions, so this means the database was damaged.
    if (!found) throw new SpotterError('engine', `Spotter's database lost the embedding of example ${meta.id}: delete that example and label the image again.`);
    const picture = picturesById.get(meta.id!);
    return { ...meta, ...found, ...(picture ? { picture } : {}) };
  });
}

/** Which backbone made each example's embeddings, and whether its picture is kept (so that another backbone can embed it again). */
export async function embeddingOrigins(): Promise<{ id: number; model: ModelId; hasPicture: boolean }[]> {
  // No embedding and no picture is read: the model is in each example's list entry, and only the pictures' keys are needed.
  const tx = (await database()).transaction(['examples', 'pictures']);
  const [metas, pictured] = await Promise.all([tx.objectStore('examples').getAll(), tx.objectStore('pictures').getAllKeys()]);
  const withPicture = new Set(pictured);
  return metas.map((meta) => ({ id: meta.id!, model: meta.model ?? MODEL_OF_OLD_RECORDS, hasPicture: withPicture.has(meta.id!) }));
}

export async function examplePicture(id: number): Promise<string | undefined> {
  return (await database()).get('pictures', id);
}

/**
 * Replaces an example's embeddings with those another backbone made from its picture. False when
 * the example was deleted meanwhile (nothing is written then).
 */
export async function replaceFeatures(id: number, model: ModelId, features: ExampleFeatures): Promise<boolean> {
  return write(['examples', 'features'], async (tx) => {
    const meta = await tx.objectStore('examples').get(id);
    if (!meta) return false;
    await tx.objectStore('examples').put({ ...meta, model });
    await tx.objectStore('features').put(features, id);
    return true;
  });
}

/**
 * Every example that still has its embeddings, and how many have lost them: what an export of what
 * is readable needs, where allExamples would refuse the lot for one damaged record.
 */
export async function examplesWithFeatures(): Promise<{ examples: ExampleRecord[]; missing: number }> {
  const tx = (await database()).transaction(['examples', 'features', 'pictures']);
  const [metas, features, ids, pictures, pictureIds] = await Promise.all([
    tx.objectStore('examples').getAll(),
    tx.objectStore('features').getAll(),
    tx.objectStore('features').getAllKeys(),
    tx.objectStore('pictures').getAll(),
    tx.objectStore('pictures').getAllKeys(),
  ]);
  const featuresById = new Map(ids.map((id, i) => [id, features[i]!]));
  const picturesById = new Map(pictureIds.map((id, i) => [id, pictures[i]!]));
  const examples = metas.flatMap((meta) => {
    const found = featuresById.get(meta.id!);
    const picture = picturesById.get(meta.id!);
    return found ? [{ ...meta, ...found, ...(picture ? { picture } : {}) }] : [];
  });
  return { examples, missing: metas.length - examples.length };
}

function splitExample({ embedding, distortions, picture, ...meta }: Omit<ExampleRecord, 'id'>): { meta: Omit<ExampleMeta, 'id'>; features: ExampleFeatures; picture?: string } {
  return { meta, features: { embedding, ...(distortions ? { distortions } : {}) }, ...(picture ? { picture } : {}) };
}

export interface LabelSummary {
  label: string;
  count: number;
}

export async function labelSummaries(): Promise<LabelSummary[]> {
  const counts = new Map<string, number>();
  const index = (await database()).transaction('examples').store.index('label');
  for (let cursor = await index.openKeyCursor(); cursor; cursor = await cursor.continue()) counts.set(cursor.key, (counts.get(cursor.key) ?? 0) + 1);
  return [...counts].map(([label, count]) => ({ label, count })).sort((a, b) => a.label.localeCompare(b.label));
}

export async function deleteExample(id: number): Promise<void> {
  await write(['examples', 'features', 'pictures'], (tx) => Promise.all([tx.objectStore('examples').delete(id), tx.objectStore('features').delete(id), tx.objectStore('pictures').delete(id)]));
}

/**
 * Renames a label; renaming onto an existing label (in any letter case) merges the two. Returns
 * how many examples moved.
 */
export async function renameLabel(from: string, to: string): Promise<number> {
  const target = await canonicalLabel(to, from);
  // One transaction: a merge of many examples that fails part-way (a full disk) moves none.
  const moved = await write(['examples'], async (tx) => {
    let moved = 0;
    for (let cursor = await tx.objectStore('examples').index('label').openCursor(from); cursor; cursor = await cursor.continue()) {
      await cursor.update({ ...cursor.value, label: target });
      moved++;
    }
    return moved;
  });
  if (moved === 0) throw new SpotterError('bad-message', `There is no label "${from}".`);
  return moved;
}

export async function deleteLabel(label: string): Promise<number> {
  return write(['examples', 'features', 'pictures'], async (tx) => {
    let deleted = 0;
    for (let cursor = await tx.objectStore('examples').index('label').openCursor(label); cursor; cursor = await cursor.continue()) {
      await tx.objectStore('features').delete(cursor.primaryKey);
      await tx.objectStore('pictures').delete(cursor.primaryKey);
      await cursor.delete();
      deleted++;
    }
    return deleted;
  });
}

/** Replaces the dataset and the head in one transaction (import): all or nothing. */
export async function replaceEverything(examples: readonly Omit<ExampleRecord, 'id'>[], head: HeadRecord | null): Promise<void> {
  // Every label is checked before anything is touched.
  const records = examples.map((example) => ({ ...example, label: normaliseLabel(example.label) }));
  // One transaction (write aborts it on any failure, a full disk included): without that, IndexedDB
  // would commit what already ran, the clear and the first examples.
  await write(['examples', 'features', 'pictures', 'heads'], async (tx) => {
    const examples = tx.objectStore('examples');
    const features = tx.objectStore('features');
    const pictures = tx.objectStore('pictures');
    await Promise.all([examples.clear(), features.clear(), pictures.clear()]);
    for (const record of records) {
      const split = splitExample(record);
      const id = await examples.add(split.meta);
      await features.add(split.features, id);
      if (split.picture) await pictures.add(split.picture, id);
    }
    const heads = tx.objectStore('heads');
    if (head) await heads.put(head, 'current');
    else await heads.delete('current');
  });
}

/** Deletes every example and the model in one transaction; says how many examples there were and whether there was a model. */
export async function deleteEverything(): Promise<{ examples: number; model: boolean }> {
  return write(['examples', 'features', 'pictures', 'heads'], async (tx) => {
    const [examples, model] = await Promise.all([tx.objectStore('examples').count(), tx.objectStore('heads').getKey('current')]);
    await Promise.all([tx.objectStore('examples').clear(), tx.objectStore('features').clear(), tx.objectStore('pictures').clear(), tx.objectStore('heads').delete('current')]);
    return { examples, model: model !== undefined };
  });
}
