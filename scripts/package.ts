/**
 * `npm run package`: store packages from the built dist/ folders, plus the source archive AMO
 * asks for. Writes packages/:
 *   spotter-chrome-<version>.zip    for the Chrome Web Store (dist/chrome)
 *   spotter-firefox-<version>.zip   for addons.mozilla.org (dist/firefox)
 *   spotter-source-<version>.zip    the committed source + the model files; inside it,
 *                                   `npm run build-for-amo` reproduces dist/firefox
 * No source maps are built (vite.config.ts), and dist/ holds no test files.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pkg from '../package.json' with { type: 'json' };
import manifest from './model-files.json' with { type: 'json' };
import { DIST, PROVISIONED_MODEL_DIR, ROOT } from './paths';

export const PACKAGES = path.join(ROOT, 'packages');
export const AMO_MODEL_DIR = 'amo-model';

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
    // The model is never committed, but a reviewer must be able to build: it travels in the archive.
    cpSync(PROVISIONED_MODEL_DIR, path.join(staging, AMO_MODEL_DIR), { recursive: true });
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
console.log(`model source folder in the archive: ${AMO_MODEL_DIR}/ (${Object.keys(manifest.files).join(', ')})`);
