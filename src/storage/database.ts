/**
 * Spotter's one local database (IndexedDB through idb). Every extension page of the same
 * origin shares it: the offscreen document, the popup and Firefox's event page.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { BackendName, BackendTiming } from '../engine/backend';

export interface BackendChoiceRecord {
  fingerprint: string;
  backend: BackendName;
  timings: BackendTiming[];
  measuredAt: number;
}

interface SpotterDB extends DBSchema {
  settings: {
    key: 'backend-choice';
    value: BackendChoiceRecord;
  };
}

const DB_NAME = 'spotter';
const DB_VERSION = 1;

let opening: Promise<IDBPDatabase<SpotterDB>> | undefined;

export function database(): Promise<IDBPDatabase<SpotterDB>> {
  opening ??= openDB<SpotterDB>(DB_NAME, DB_VERSION, {
    upgrade(db) {
      db.createObjectStore('settings');
    },
  });
  return opening;
}
