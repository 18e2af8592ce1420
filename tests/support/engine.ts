import path from 'node:path';
import '@tensorflow/tfjs-backend-wasm';
import { SpotterEngine, type EngineConfig } from '../../src/engine/engine';
import { fileModelHandler } from '../../src/engine/node-model';
import { DEFAULT_MODEL_ID, MODELS } from '../../src/shared/models';
import { provisionedModelDir } from '../../scripts/paths';

/**
 * The real engine on a provisioned backbone (the default one unless `descriptor` says otherwise),
 * on WASM as in the browsers (CPU is ~15x slower in Node).
 */
export function nodeEngine(config: Partial<EngineConfig> = {}): SpotterEngine {
  const descriptor = config.descriptor ?? MODELS[DEFAULT_MODEL_ID];
  return new SpotterEngine({ model: fileModelHandler(path.join(provisionedModelDir(descriptor), 'model.json')), backends: ['wasm'], ...config, descriptor });
}
