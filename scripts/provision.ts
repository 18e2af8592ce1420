/**
 * Copies every backbone's files (scripts/model-files.json, one entry per model in
 * src/shared/models.ts) and the TF.js .wasm binaries into .provisioned/ (Vite's publicDir),
 * verifying each model file's sha256. Runs from `npm ci` (postinstall) and before every build.
 */
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MODEL_IDS, MODELS, type ModelId } from '../src/shared/models';
import manifest from './model-files.json' with { type: 'json' };
import { PROVISIONED, provisionedModelDir, ROOT, SHARED, WASM_PATH_IN_EXTENSION } from './paths';

export type FileDigests = Record<string, string>;

export class ProvisionError extends Error {
  override name = 'ProvisionError';
}

/** A folder that holds each model's source folder (as ../shared/models does). */
export const MODELS_DIR_VARIABLE = 'SPOTTER_MODELS_DIR';

export interface ModelSource {
  dir: string;
  from: string;
}

/** The folder to copy a model from: $SPOTTER_MODELS_DIR/<sourceFolder>, else ../shared/models/<sourceFolder>. */
export function modelSourceDir(id: ModelId, env: NodeJS.ProcessEnv = process.env): ModelSource {
  const { sourceFolder } = manifest.models[id];
  const fromEnv = env[MODELS_DIR_VARIABLE];
  if (fromEnv) return { dir: path.resolve(fromEnv, sourceFolder), from: `$${MODELS_DIR_VARIABLE}` };
  return { dir: path.join(SHARED, 'models', sourceFolder), from: 'the default location' };
}

export async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** Every problem with `dir` against the expected digests; empty when all files are present and intact. */
export async function checkFiles(dir: string, expected: FileDigests): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, digest] of Object.entries(expected)) {
    const file = path.join(dir, name);
    if (!existsSync(file)) {
      problems.push(`${name} is missing`);
      continue;
    }
    const actual = await sha256(file);
    if (actual !== digest) problems.push(`${name} has sha256 ${actual}, expected ${digest} (altered or a different model)`);
  }
  return problems;
}

/**
 * Copies and verifies the model. Leaves an already verified copy alone when the source is
 * gone (a clone that was provisioned once keeps building offline).
 */
export async function provisionModel(source: ModelSource, destination: string, expected: FileDigests, sourceFolder = path.basename(source.dir)): Promise<'copied' | 'up-to-date'> {
  const sourceProblems = await checkFiles(source.dir, expected);
  if (sourceProblems.length > 0) {
    if ((await checkFiles(destination, expected)).length === 0 && !existsSync(source.dir)) return 'up-to-date';
    throw new ProvisionError(
      [
        `Spotter cannot provision the model ${sourceFolder} from ${source.dir} (${source.from}):`,
        ...sourceProblems.map((p) => `  - ${p}`),
        `Fix: point ${MODELS_DIR_VARIABLE} at a folder holding an intact copy of ${sourceFolder}/ (files: ${Object.keys(expected).join(', ')}),`,
        `e.g. \`${MODELS_DIR_VARIABLE}=/path/to/models npm run provision\`, or place it at ../shared/models/.`,
        'The expected sha256 of each file is in scripts/model-files.json.',
      ].join('\n'),
    );
  }
  await mkdir(destination, { recursive: true });
  for (const name of Object.keys(expected)) {
    // read + write rather than copyFile: the source may be read-only and the copy must stay writable.
    await writeFile(path.join(destination, name), await readFile(path.join(source.dir, name)));
  }
  const copyProblems = await checkFiles(destination, expected);
  if (copyProblems.length > 0) throw new ProvisionError(`The copied model in ${destination} failed verification: ${copyProblems.join('; ')}`);
  return 'copied';
}

/** Single-threaded WASM only: the threaded build cannot start in extension pages (see engine/backend.ts). */
export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];

export async function provisionWasm(destination: string): Promise<void> {
  const sourceDir = path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  await mkdir(destination, { recursive: true });
  for (const name of WASM_FILES) {
    const file = path.join(sourceDir, name);
    if (!existsSync(file)) throw new ProvisionError(`${file} is missing: run \`npm ci\` first.`);
    await writeFile(path.join(destination, name), await readFile(file));
  }
}

async function main(): Promise<void> {
  for (const id of MODEL_IDS) {
    const source = modelSourceDir(id);
    const result = await provisionModel(source, provisionedModelDir(MODELS[id]), manifest.models[id].files, manifest.models[id].sourceFolder);
    console.log(`spotter: ${id} ${result === 'copied' ? `copied from ${source.dir} and verified` : 'already provisioned and verified'}.`);
  }
  // A folder of an earlier layout would be bundled too (Vite copies all of publicDir).
  rmSync(path.join(PROVISIONED, 'models/mobilenet_v2'), { recursive: true, force: true });
  await provisionWasm(path.join(PROVISIONED, WASM_PATH_IN_EXTENSION));
  console.log('spotter: wasm binaries copied.');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error instanceof ProvisionError ? error.message : error);
    process.exit(1);
  });
}
