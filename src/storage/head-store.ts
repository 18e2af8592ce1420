import { database, write, type HeadRecord } from './database';

/** The trained head survives browser restarts; a new one replaces it in a single write. */
export async function saveHead(record: HeadRecord): Promise<void> {
  // A full disk leaves the previous head in place (write says 'storage-full').
  await write(['heads'], (tx) => tx.objectStore('heads').put(record, 'current'));
}

export async function loadHead(): Promise<HeadRecord | undefined> {
  return (await database()).get('heads', 'current');
}

/** Returns whether there was a head to delete. */
export async function deleteHead(): Promise<boolean> {
  return write(['heads'], async (tx) => {
    const existed = (await tx.objectStore('heads').getKey('current')) !== undefined;
    await tx.objectStore('heads').delete('current');
    return existed;
  });
}
