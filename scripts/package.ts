/**
 * `npm run package`: store packages from the built dist/ folders, plus the source archive AMO
 * asks for. Writes packages/:
 *   spotter-chrome-<version>.zip    for the Chrome Web Store (dist/chrome)
 *   spotter-firefox-<version>.zip   for addons.mozilla.org (dist/firefox)
 *   spotter-source-<version>.zip    the committed source + the model files (amo-models/<sourceFolder>/); inside it,
 *                                   `npm run build-for-amo` reproduces dist/firefox
 * No source maps are built (vite.config.ts), and dist/ holds no test files.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pkg from '../package.json' with { type: 'json' };
import { MODEL_IDS, MODELS } from '../src/shared/models';
import manifest from './model-files.json' with { type: 'json' };
import { DIST, provisionedModelDir, ROOT } from './paths';

export const PACKAGES = path.join(ROOT, 'packages');
/** Where the archive keeps the models, one source folder each, as $SPOTTER_MODELS_DIR expects them. */
export const AMO_MODELS_DIR = 'amo-models';

const webExt = path.join(ROOT, 'node_modules/.bin/web-ext');

function zipExtension(browser: 'chrome' | 'firefox'): string {
  const filename = `spotter-${browser}-${pkg.version}.zip`;
  execFileSync(webExt, ['build', '--source-dir', path.join(DIST, browser), '--artifacts-dir', PACKAGES, '--filename', filename, '--overwrite-dest'], { stdio: 'ignore' });
  return path.join(PACKAGES, filename);
}

function zipSource(): string {
  const staging = mkdtempSync(path.join(os.tmpdir(), 'spotter-source-'));
  try {
    // What is committed, exactly: no node_modules, no build output, no local files.
    execFileSync('sh', ['-c', `git -C "${ROOT}" archive --format=tar HEAD | tar -x -C "${staging}"`]);
    // The models are never committed, but a reviewer must be able to build: they travel in the archive.
    for (const id of MODEL_IDS) cpSync(provisionedModelDir(MODELS[id]), path.join(staging, AMO_MODELS_DIR, manifest.models[id].sourceFolder), { recursive: true });
    const target = path.join(PACKAGES, `spotter-source-${pkg.version}.zip`);
    rmSync(target, { force: true });
    execFileSync('zip', ['-qr', target, '.'], { cwd: staging });
    return target;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

mkdirSync(PACKAGES, { recursive: true });
for (const file of [zipExtension('chrome'), zipExtension('firefox'), zipSource()]) console.log(`packaged ${path.relative(ROOT, file)}`);
console.log(`model folders in the archive: ${MODEL_IDS.map((id) => `${AMO_MODELS_DIR}/${manifest.models[id].sourceFolder}/`).join(', ')}`);
