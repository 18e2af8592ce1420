/**
 * Spotter's one local database (IndexedDB through idb). Every extension context of the
 * extension's origin shares it: the offscreen document, the popup, the service worker and
 * Firefox's event page.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { BackendName, BackendTiming } from '../engine/backend';
import type { SerializedHead, TrainingReport } from '../engine/head';

export interface BackendChoiceRecord {
  fingerprint: string;
  backend: BackendName;
  timings: BackendTiming[];
  measuredAt: number;
}

/**
 * One labelled image as lists show it: everything but the embeddings, which live in their own
 * store (`features`, same key) so that listing a thousand examples does not read ~46 MB of them.
 */
export interface ExampleMeta {
  id?: number;
  label: string;
  /** A small JPEG data: URL, for the dataset view. */
  thumbnail: string;
  imageUrl: string;
  pageUrl: string;
  createdAt: number;
}

/** What the head trains on for one example. */
export interface ExampleFeatures {
  /** MobileNet's 1280-d embedding: the head trains on this, never on pixels. */
  embedding: Float32Array;
  /**
   * Embeddings of randomly distorted copies of the image (engine/distort.ts), extra training rows.
   * Absent on examples saved before Spotter made them, which then train on `embedding` alone.
   */
  distortions?: Float32Array[];
}

/** One labelled image: what the user taught Spotter (both stores joined). */
export type ExampleRecord = ExampleMeta & ExampleFeatures;

export interface HeadRecord {
  head: SerializedHead;
  report: TrainingReport;
  trainedAt: number;
}

interface SpotterDB extends DBSchema {
  settings: { key: 'backend-choice'; value: BackendChoiceRecord };
  examples: { key: number; value: ExampleMeta; indexes: { label: string } };
  /** Keyed by the example's id; written and deleted in the same transactions as `examples`. */
  features: { key: number; value: ExampleFeatures };
  /** Only ever one record, 'current': replaced in one put, so readers see the old or the new head. */
  heads: { key: 'current'; value: HeadRecord };
  /** A dataset file on its way from the popup to the engine (import-staging.ts); gone once read. */
  imports: { key: 'pending'; value: Blob };
}

const DB_NAME = 'spotter';
const DB_VERSION = 4;

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

/** Tests only: forget the open connection (fake-indexeddb is reset between files). */
export function closeDatabaseForTests(): void {
  void opening?.then((db) => db.close());
  opening = undefined;
}
