/** The user's labelled examples and their edits. Label names are trimmed and never empty. */
import { SpotterError } from '../shared/errors';
import { database, type ExampleRecord, type HeadRecord } from './database';

export const MAX_LABEL_LENGTH = 60;

export function normaliseLabel(raw: string): string {
  const label = raw.trim().replace(/\s+/g, ' ');
  if (!label) throw new SpotterError('bad-message', 'A label needs at least one letter.');
  if (label.length > MAX_LABEL_LENGTH) throw new SpotterError('bad-message', `Labels are at most ${MAX_LABEL_LENGTH} characters.`);
  if (label.toLowerCase() === 'unknown') throw new SpotterError('bad-message', '"unknown" is reserved for images Spotter is unsure about.');
  return label;
}

export async function addExample(example: Omit<ExampleRecord, 'id' | 'label'> & { label: string }): Promise<ExampleRecord> {
  const record = { ...example, label: normaliseLabel(example.label) };
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
  for (const example of await allExamples()) counts.set(example.label, (counts.get(example.label) ?? 0) + 1);
  return [...counts].map(([label, count]) => ({ label, count })).sort((a, b) => a.label.localeCompare(b.label));
}

export async function deleteExample(id: number): Promise<void> {
  await (await database()).delete('examples', id);
}

/** Renames a label; renaming onto an existing label merges the two. Returns how many examples moved. */
export async function renameLabel(from: string, to: string): Promise<number> {
  const target = normaliseLabel(to);
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
  const tx = (await database()).transaction(['examples', 'heads'], 'readwrite');
  const store = tx.objectStore('examples');
  await store.clear();
  for (const example of examples) await store.add({ ...example, label: normaliseLabel(example.label) });
  const heads = tx.objectStore('heads');
  if (head) await heads.put(head, 'current');
  else await heads.delete('current');
  await tx.done;
}
