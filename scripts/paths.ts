import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folders the build, tests and benchmarks agree on. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = path.resolve(ROOT, '../shared');
/** Vite's publicDir: provisioned (never committed) files that are copied into every build. */
export const PROVISIONED = path.join(ROOT, '.provisioned');
export const WASM_PATH_IN_EXTENSION = 'wasm';
/** Where a backbone's files sit inside PROVISIONED (as inside the extension): its descriptor's folder. */
export function provisionedModelDir(model: { folder: string }): string {
  return path.join(PROVISIONED, model.folder);
}
export const DIST = path.join(ROOT, 'dist');
