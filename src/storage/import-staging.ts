/**
 * A dataset file on its way from the popup to the engine. A runtime message holds at most 64 MB,
 * while an export of a few thousand examples is hundreds: the popup leaves the file itself in the
 * shared database and the engine takes it from there.
 */
import { database } from './database';

/** Beyond this, an import would strain the engine's memory (parsing holds the text and the arrays). */
export const MAX_IMPORT_BYTES = 1024 * 1024 * 1024;

export async function stageImport(file: Blob): Promise<void> {
  await (await database()).put('imports', file, 'pending');
}

/** The staged file, removed in the same transaction; undefined if none is waiting. */
export async function takeStagedImport(): Promise<Blob | undefined> {
  const tx = (await database()).transaction('imports', 'readwrite');
  const file = await tx.store.get('pending');
  await tx.store.delete('pending');
  await tx.done;
  return file;
}
