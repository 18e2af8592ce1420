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

/** One labelled image: what the user taught Spotter. */
export interface ExampleRecord {
  id?: number;
  label: string;
  /** MobileNet's 1280-d embedding: the head trains on this, never on pixels. */
  embedding: Float32Array;
  /**
   * Embeddings of randomly distorted copies of the image (engine/distort.ts), extra training rows.
   * Absent on examples saved before Spotter made them, which then train on `embedding` alone.
   */
  distortions?: Float32Array[];
  /** A small JPEG data: URL, for the dataset view. */
  thumbnail: string;
  imageUrl: string;
  pageUrl: string;
  createdAt: number;
}

export interface HeadRecord {
  head: SerializedHead;
  report: TrainingReport;
  trainedAt: number;
}

interface SpotterDB extends DBSchema {
  settings: { key: 'backend-choice'; value: BackendChoiceRecord };
  examples: { key: number; value: ExampleRecord; indexes: { label: string } };
  /** Only ever one record, 'current': replaced in one put, so readers see the old or the new head. */
  heads: { key: 'current'; value: HeadRecord };
}

const DB_NAME = 'spotter';
const DB_VERSION = 2;

let opening: Promise<IDBPDatabase<SpotterDB>> | undefined;

export function database(): Promise<IDBPDatabase<SpotterDB>> {
  if (opening) return opening;
  const attempt = openDB<SpotterDB>(DB_NAME, DB_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) db.createObjectStore('settings');
      if (oldVersion < 2) {
        db.createObjectStore('examples', { keyPath: 'id', autoIncrement: true }).createIndex('label', 'label');
        db.createObjectStore('heads');
      }
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
