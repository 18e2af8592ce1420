import { DEFAULT_MODEL_ID, isModelId, type ModelId } from '../shared/models';
import { database, MODEL_OF_OLD_RECORDS, write } from './database';

/**
 * The backbone Spotter runs: the user's choice on the options page. Without one, the default,
 * unless examples are stored already: those were made by MobileNet v2 before Spotter offered a
 * choice, and switching under them would set them aside, so v2 stays until the user chooses.
 */
export async function chosenModel(): Promise<ModelId> {
  const db = await database();
  const record = await db.get('settings', 'model-choice');
  if (record && 'model' in record && isModelId(record.model)) return record.model;
  const stored = await db.transaction('examples').store.openCursor();
  return stored ? (stored.value.model ?? MODEL_OF_OLD_RECORDS) : DEFAULT_MODEL_ID;
}

export async function saveModelChoice(model: ModelId): Promise<void> {
  await write(['settings'], (tx) => tx.objectStore('settings').put({ model, chosenAt: Date.now() }, 'model-choice'));
}
