/** The user's labelled examples and their edits. Label names are trimmed and never empty. */
import { SpotterError } from '../shared/errors';
import { normaliseLabel } from '../shared/labels';
import { database, type ExampleRecord, type HeadRecord } from './database';

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

export async function addExample(example: Omit<ExampleRecord, 'id' | 'label'> & { label: string }): Promise<ExampleRecord> {
  const record = { ...example, label: await canonicalLabel(example.label) };
  const id = await (await database()).add('examples', record);
  return { ...record, id };
}

export async function allExamples(): Promise<ExampleRecord[]> {
  return (await database()).getAll('examples');
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
  await (await database()).delete('examples', id);
}

/**
 * Renames a label; renaming onto an existing label (in any letter case) merges the two. Returns
 * how many examples moved.
 */
export async function renameLabel(from: string, to: string): Promise<number> {
  const target = await canonicalLabel(to, from);
  const tx = (await database()).transaction('examples', 'readwrite');
  let moved = 0;
  for (let cursor = await tx.store.index('label').openCursor(from); cursor; cursor = await cursor.continue()) {
    await cursor.update({ ...cursor.value, label: target });
    moved++;
  }
  await tx.done;
  if (moved === 0) throw new SpotterError('bad-message', `There is no label "${from}".`);
  return moved;
}

export async function deleteLabel(label: string): Promise<number> {
  const tx = (await database()).transaction('examples', 'readwrite');
  let deleted = 0;
  for (let cursor = await tx.store.index('label').openCursor(label); cursor; cursor = await cursor.continue()) {
    await cursor.delete();
    deleted++;
  }
  await tx.done;
  return deleted;
}

/** Replaces the dataset and the head in one transaction (import): all or nothing. */
export async function replaceEverything(examples: readonly Omit<ExampleRecord, 'id'>[], head: HeadRecord | null): Promise<void> {
  // Every label is checked before anything is touched.
  const records = examples.map((example) => ({ ...example, label: normaliseLabel(example.label) }));
  const tx = (await database()).transaction(['examples', 'heads'], 'readwrite');
  // Observed here so that an abort below is not also reported as an unhandled rejection.
  const done = tx.done.catch((error: unknown) => error);
  try {
    const store = tx.objectStore('examples');
    await store.clear();
    for (const record of records) await store.add(record);
    const heads = tx.objectStore('heads');
    if (head) await heads.put(head, 'current');
    else await heads.delete('current');
  } catch (error) {
    // Without this, IndexedDB would commit what already ran: the clear and the first examples.
    try {
      tx.abort();
    } catch {
      // Already aborted by the failed request.
    }
    await done;
    throw error;
  }
  const failure = await done;
  if (failure !== undefined) throw failure;
}
