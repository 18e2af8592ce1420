import path from 'node:path';
import '@tensorflow/tfjs-backend-wasm';
import { SpotterEngine, type EngineConfig } from '../../src/engine/engine';
import { fileModelHandler } from '../../src/engine/node-model';
import { PROVISIONED_MODEL_DIR } from '../../scripts/paths';

/** The real engine on the provisioned model, on WASM as in the browsers (CPU is ~15x slower in Node). */
export function nodeEngine(config: Partial<EngineConfig> = {}): SpotterEngine {
  return new SpotterEngine({ model: fileModelHandler(path.join(PROVISIONED_MODEL_DIR, 'model.json')), backends: ['wasm'], ...config });
}
