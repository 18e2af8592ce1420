import { database, type HeadRecord } from './database';

/** The trained head survives browser restarts; a new one replaces it in a single write. */
export async function saveHead(record: HeadRecord): Promise<void> {
  await (await database()).put('heads', record, 'current');
}

export async function loadHead(): Promise<HeadRecord | undefined> {
  return (await database()).get('heads', 'current');
}

/** Returns whether there was a head to delete. */
export async function deleteHead(): Promise<boolean> {
  const tx = (await database()).transaction('heads', 'readwrite');
  const existed = (await tx.store.getKey('current')) !== undefined;
  await tx.store.delete('current');
  await tx.done;
  return existed;
}
