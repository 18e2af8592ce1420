/**
 * Spotter's one local database (IndexedDB through idb). Every extension context of the
 * extension's origin shares it: the offscreen document, the popup, the service worker and
 * Firefox's event page.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { BackendName, BackendTiming } from '../engine/backend';
import type { SerializedHead, TrainingReport } from '../engine/head';
import { SpotterError } from '../shared/errors';
import type { ModelId } from '../shared/models';

export interface BackendChoiceRecord {
  fingerprint: string;
  backend: BackendName;
  timings: BackendTiming[];
  measuredAt: number;
}

/** The backbone the user chose on the options page. */
export interface ModelChoiceRecord {
  model: ModelId;
  chosenAt: number;
}

/**
 * Embeddings, heads and examples saved before Spotter had a second backbone carry no model:
 * MobileNet v2 made them.
 */
export const MODEL_OF_OLD_RECORDS: ModelId = 'mobilenet-v2';

/**
 * One labelled image as lists show it: everything but the embeddings, which live in their own
 * store (`features`, same key) so that listing a thousand examples does not read ~46 MB of them.
 */
export interface ExampleMeta {
  id?: number;
  label: string;
  /**
   * The backbone that made the example's embeddings (absent: MODEL_OF_OLD_RECORDS). Kept here, not
   * beside the embeddings, so that telling which examples another backbone made reads no embedding.
   */
  model?: ModelId;
  /** A small JPEG data: URL, for the dataset view. */
  thumbnail: string;
  imageUrl: string;
  pageUrl: string;
  createdAt: number;
}

/** What the head trains on for one example. */
export interface ExampleFeatures {
  /** The backbone's 1280-d embedding: the head trains on this, never on pixels. */
  embedding: Float32Array;
  /**
   * Embeddings of randomly distorted copies of the image (engine/distort.ts), extra training rows.
   * Absent on examples saved before Spotter made them, which then train on `embedding` alone.
   */
  distortions?: Float32Array[];
}

/**
 * One labelled image: what the user taught Spotter (the stores joined). `picture` is the image
 * itself, small (a JPEG data: URL, at most PICTURE_SIDE px on the long side), kept so that a new
 * backbone can embed the example again; absent on examples saved before Spotter kept pictures,
 * and left out where it is not needed (training reads embeddings only).
 */
export type ExampleRecord = ExampleMeta & ExampleFeatures & { picture?: string };

export interface HeadRecord {
  /** The backbone whose embeddings the head was trained on (absent: MODEL_OF_OLD_RECORDS). */
  model?: ModelId;
  head: SerializedHead;
  report: TrainingReport;
  trainedAt: number;
}

interface SpotterDB extends DBSchema {
  settings: { key: 'backend-choice' | 'model-choice'; value: BackendChoiceRecord | ModelChoiceRecord };
  examples: { key: number; value: ExampleMeta; indexes: { label: string } };
  /** Keyed by the example's id; written and deleted in the same transactions as `examples`. */
  features: { key: number; value: ExampleFeatures };
  /** Only ever one record, 'current': replaced in one put, so readers see the old or the new head. */
  heads: { key: 'current'; value: HeadRecord };
  /** A dataset file on its way from the popup to the engine (import-staging.ts); gone once read. */
  imports: { key: 'pending'; value: Blob };
  /** Each example's picture (a JPEG data: URL), keyed by the example's id; written and deleted with it. */
  pictures: { key: number; value: string };
}

const DB_NAME = 'spotter';
const DB_VERSION = 5;

let opening: Promise<IDBPDatabase<SpotterDB>> | undefined;

export function database(): Promise<IDBPDatabase<SpotterDB>> {
  if (opening) return opening;
  const attempt = openDB<SpotterDB>(DB_NAME, DB_VERSION, {
    async upgrade(db, oldVersion, _newVersion, transaction) {
      if (oldVersion < 1) db.createObjectStore('settings');
      if (oldVersion < 2) {
        db.createObjectStore('examples', { keyPath: 'id', autoIncrement: true }).createIndex('label', 'label');
        db.createObjectStore('heads');
      }
      if (oldVersion < 3) {
        const features = db.createObjectStore('features');
        // Version 2 kept the embeddings inside each example: move them out, in the upgrade's transaction.
        for (let cursor = await transaction.objectStore('examples').openCursor(); cursor; cursor = await cursor.continue()) {
          const { embedding, distortions, ...meta } = cursor.value as ExampleRecord;
          await features.put(distortions ? { embedding, distortions } : { embedding }, cursor.primaryKey);
          await cursor.update(meta);
        }
      }
      if (oldVersion < 4) db.createObjectStore('imports');
      if (oldVersion < 5) db.createObjectStore('pictures');
    },
    // The browser closed the connection (storage cleared, disk trouble): open a new one next time.
    terminated() {
      if (opening === attempt) opening = undefined;
    },
  });
  opening = attempt;
  // A failed open is not cached: the next call tries again.
  attempt.catch(() => {
    if (opening === attempt) opening = undefined;
  });
  return attempt;
}

/**
 * What the user reads when a write finds no room: the disk is full, or the browser's quota for
 * Spotter (a share of the free disk space) is used up. Every write goes through `write` below, so
 * the write that failed changed nothing. (It does not say "nothing was changed": "Add images" adds
 * the files one by one and says how many went in before the disk filled up.)
 */
export const STORAGE_FULL_MESSAGE =
  "Spotter could not save: this device's storage is full. Free some disk space or delete examples you no longer need in Your labels, then try again.";

/**
 * Whether IndexedDB refused a write for lack of space. The browser says so with a
 * QuotaExceededError DOMException: as the failed request's error, or, when the check comes at
 * commit (Chromium), as the aborted transaction's `error`, which idb's `tx.done` rejects with.
 */
export function isQuotaError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  // 22 is QUOTA_EXCEEDED_ERR, DOMException's legacy code for the same error.
  return name === 'QuotaExceededError' || (error instanceof DOMException && code === 22);
}

/** A storage failure as the user should read it: a full disk becomes 'storage-full'; anything else is left as it is. */
export function storageError(error: unknown): unknown {
  return isQuotaError(error) ? new SpotterError('storage-full', STORAGE_FULL_MESSAGE) : error;
}

/**
 * Runs `work` in one readwrite transaction over `stores`: every write in it lands, or none does.
 * A failed request or an error thrown by `work` aborts the whole transaction (IndexedDB would
 * otherwise commit the requests that had already run), and a write refused for lack of space, at a
 * request or at commit, is thrown as SpotterError 'storage-full' (storageError). Every write to
 * Spotter's database goes through here, except the schema upgrade when it is opened.
 */
export async function write<Names extends StoreNames<SpotterDB>[], T>(stores: Names, work: (tx: IDBPTransaction<SpotterDB, Names, 'readwrite'>) => Promise<T>): Promise<T> {
  let tx: IDBPTransaction<SpotterDB, Names, 'readwrite'>;
  try {
    tx = (await database()).transaction(stores, 'readwrite');
  } catch (error) {
    throw storageError(error);
  }
  // Observed from the start, so that an abort is not also reported as an unhandled rejection.
  const done = tx.done.then(
    () => undefined,
    (error: unknown) => error ?? new Error('The database transaction was aborted.'),
  );
  let result: T;
  try {
    result = await work(tx);
  } catch (error) {
    try {
      tx.abort();
    } catch {
      // Already aborted by the failed request (or already finished).
    }
    await done;
    throw storageError(error);
  }
  const failure = await done;
  if (failure !== undefined) throw storageError(failure);
  return result;
}

/** Tests only: forget the open connection (fake-indexeddb is reset between files). */
export function closeDatabaseForTests(): void {
  void opening?.then((db) => db.close());
  opening = undefined;
}
