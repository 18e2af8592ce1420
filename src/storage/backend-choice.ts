import type { BackendMemory } from '../engine/backend';
import { database, write } from './database';

/** Keeps the measured backend choice, so the probe runs once per machine and browser version. */
export const storedBackendChoice: BackendMemory = {
  async recall(fingerprint) {
    const record = await (await database()).get('settings', 'backend-choice');
    return record && 'fingerprint' in record && record.fingerprint === fingerprint ? record.backend : undefined;
  },
  async remember(fingerprint, backend, timings) {
    // On a full disk this fails ('storage-full') and the engine measures again next time: nothing is lost.
    await write(['settings'], (tx) => tx.objectStore('settings').put({ fingerprint, backend, timings: [...timings], measuredAt: Date.now() }, 'backend-choice'));
  },
};
