import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folders the build, tests and benchmarks agree on. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = path.resolve(ROOT, '../shared');
/** Vite's publicDir: provisioned (never committed) files that are copied into every build. */
export const PROVISIONED = path.join(ROOT, '.provisioned');
/** Where the model sits inside the extension (and inside PROVISIONED). */
export const MODEL_PATH_IN_EXTENSION = 'models/mobilenet_v2';
export const WASM_PATH_IN_EXTENSION = 'wasm';
export const PROVISIONED_MODEL_DIR = path.join(PROVISIONED, MODEL_PATH_IN_EXTENSION);
export const DIST = path.join(ROOT, 'dist');
