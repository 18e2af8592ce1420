import type { BackendMemory } from '../engine/backend';
import { database } from './database';

/** Keeps the measured backend choice, so the probe runs once per machine and browser version. */
export const storedBackendChoice: BackendMemory = {
  async recall(fingerprint) {
    const record = await (await database()).get('settings', 'backend-choice');
    return record?.fingerprint === fingerprint ? record.backend : undefined;
  },
  async remember(fingerprint, backend, timings) {
    await (await database()).put('settings', { fingerprint, backend, timings: [...timings], measuredAt: Date.now() }, 'backend-choice');
  },
};
