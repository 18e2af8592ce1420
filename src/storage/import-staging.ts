/**
 * A dataset file on its way from the popup to the engine. A runtime message holds at most 64 MB,
 * while an export of a few thousand examples is hundreds: the popup leaves the file itself in the
 * shared database and the engine takes it from there.
 */
import { write } from './database';

/** Beyond this, an import would strain the engine's memory (parsing holds the text and the arrays). */
export const MAX_IMPORT_BYTES = 1024 * 1024 * 1024;

export async function stageImport(file: Blob): Promise<void> {
  // The whole file is written here, so this is where an import usually meets a full disk ('storage-full').
  await write(['imports'], (tx) => tx.objectStore('imports').put(file, 'pending'));
}

/** The staged file, removed in the same transaction; undefined if none is waiting. */
export async function takeStagedImport(): Promise<Blob | undefined> {
  return write(['imports'], async (tx) => {
    const file = await tx.objectStore('imports').get('pending');
    await tx.objectStore('imports').delete('pending');
    return file;
  });
}
