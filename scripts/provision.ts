/**
 * Copies the MobileNet files and the TF.js .wasm binaries into .provisioned/ (Vite's
 * publicDir), verifying each model file's sha256 against scripts/model-files.json.
 * Runs from `npm ci` (postinstall) and before every build.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import manifest from './model-files.json' with { type: 'json' };
import { PROVISIONED, PROVISIONED_MODEL_DIR, ROOT, SHARED, WASM_PATH_IN_EXTENSION } from './paths';

export type FileDigests = Record<string, string>;

export class ProvisionError extends Error {
  override name = 'ProvisionError';
}

export const MODEL_DIR_VARIABLE = 'SPOTTER_MODEL_DIR';

/** The folder to copy the model from: $SPOTTER_MODEL_DIR, else ../shared/models/<sourceFolder>. */
export function modelSourceDir(env: NodeJS.ProcessEnv = process.env): { dir: string; from: string } {
  const fromEnv = env[MODEL_DIR_VARIABLE];
  if (fromEnv) return { dir: path.resolve(fromEnv), from: `$${MODEL_DIR_VARIABLE}` };
  return { dir: path.join(SHARED, 'models', manifest.sourceFolder), from: 'the default location' };
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
export async function provisionModel(source: { dir: string; from: string }, destination: string, expected: FileDigests = manifest.files): Promise<'copied' | 'up-to-date'> {
  const sourceProblems = await checkFiles(source.dir, expected);
  if (sourceProblems.length > 0) {
    if ((await checkFiles(destination, expected)).length === 0 && !existsSync(source.dir)) return 'up-to-date';
    throw new ProvisionError(
      [
        `Spotter cannot provision the MobileNet model from ${source.dir} (${source.from}):`,
        ...sourceProblems.map((p) => `  - ${p}`),
        `Fix: point ${MODEL_DIR_VARIABLE} at an intact copy of ${manifest.sourceFolder}/ (files: ${Object.keys(expected).join(', ')}),`,
        `e.g. \`${MODEL_DIR_VARIABLE}=/path/to/${manifest.sourceFolder} npm run provision\`, or place it at ../shared/models/.`,
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
  const source = modelSourceDir();
  const result = await provisionModel(source, PROVISIONED_MODEL_DIR);
  await provisionWasm(path.join(PROVISIONED, WASM_PATH_IN_EXTENSION));
  console.log(`spotter: model ${result === 'copied' ? `copied from ${source.dir} and verified` : 'already provisioned and verified'}; wasm binaries copied.`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error instanceof ProvisionError ? error.message : error);
    process.exit(1);
  });
}
