/**
 * Store-ready builds: the Firefox build is lint-clean (`web-ext lint`, warnings as errors), has an
 * event page instead of a service worker and no offscreen API; `npm run package` writes the two
 * store zips and the AMO source archive, from which `npm run build-for-amo` rebuilds dist/firefox.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { DIST, ROOT } from '../../scripts/paths';

const FIREFOX_DIST = path.join(DIST, 'firefox');

describe('the Firefox build', () => {
  it('passes web-ext lint with no errors and no warnings', () => {
    const output = execFileSync(path.join(ROOT, 'node_modules/.bin/web-ext'), ['lint', '--source-dir', FIREFOX_DIST, '--warnings-as-errors', '--output', 'json'], { encoding: 'utf8' });
    const report = JSON.parse(output) as { summary: { errors: number; warnings: number; notices: number }; errors: unknown[]; warnings: unknown[] };
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.summary).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('has an event page, a gecko id and says it collects nothing', () => {
    const manifest = JSON.parse(readFileSync(path.join(FIREFOX_DIST, 'manifest.json'), 'utf8')) as Record<string, any>;
    expect(manifest.background).toEqual({ scripts: [expect.stringMatching(/\.js$/)], type: 'module' });
    expect(manifest.browser_specific_settings.gecko).toMatchObject({ id: expect.stringContaining('@'), strict_min_version: expect.any(String), data_collection_permissions: { required: ['none'] } });
    expect(manifest.permissions).not.toContain('offscreen');
  });

  it('bundles the model and the wasm binaries, and never calls the offscreen API', () => {
    const models = ['mobilenet-edgetpu', 'mobilenet-v2'].flatMap((id) => [`models/${id}/model.json`, `models/${id}/group1-shard1of1.bin`]);
    for (const file of [...models, 'wasm/tfjs-backend-wasm-simd.wasm', 'wasm/tfjs-backend-wasm.wasm']) {
      expect(existsSync(path.join(FIREFOX_DIST, file)), file).toBe(true);
    }
    // Every script in the build, wherever it is (the content script is src/content/index.js, outside assets/).
    const scripts = (readdirSync(FIREFOX_DIST, { recursive: true }) as string[]).filter((f) => f.endsWith('.js'));
    const manifest = JSON.parse(readFileSync(path.join(FIREFOX_DIST, 'manifest.json'), 'utf8')) as { background: { scripts: string[] }; content_scripts: { js: string[] }[] };
    for (const script of [...manifest.background.scripts, ...manifest.content_scripts.flatMap((entry) => entry.js)]) expect(scripts).toContain(path.normalize(script));
    expect(scripts).toContain(path.join('src', 'content', 'index.js'));
    expect(scripts.filter((f) => f.startsWith(`assets${path.sep}`)).length).toBeGreaterThan(0);
    for (const script of scripts) expect(readFileSync(path.join(FIREFOX_DIST, script), 'utf8'), script).not.toMatch(/chrome\.offscreen|offscreen\.createDocument/);
  });
});

describe('both builds', () => {
  // The content script is bundled by crxjs on its own, past the transform that takes Preact's
  // innerHTML path out of the other scripts (scripts/vite-no-inner-html.ts).
  it.each(['chrome', 'firefox'])('%s: no script assigns markup to innerHTML, the content script included', (browser) => {
    const dist = path.join(DIST, browser);
    const scripts = (readdirSync(dist, { recursive: true }) as string[]).filter((f) => f.endsWith('.js'));
    const content = readFileSync(path.join(dist, 'src', 'content', 'index.js'), 'utf8');
    expect(content).toContain('dangerouslySetInnerHTML is disabled in Spotter');
    for (const script of scripts) expect(readFileSync(path.join(dist, script), 'utf8'), script).not.toMatch(/[\w$]+\.innerHTML=[\w$]+\.__html/);
  });
});

const zipEntries = (file: string) =>
  execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);

/** Every file under `dir`, relative, with its sha256. */
function digestTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const name of readdirSync(path.join(dir, sub))) {
      const rel = path.join(sub, name);
      if (statSync(path.join(dir, rel)).isDirectory()) walk(rel);
      else out[rel] = createHash('sha256').update(readFileSync(path.join(dir, rel))).digest('hex');
    }
  };
  walk('');
  return out;
}

describe('npm run package', () => {
  const packages = path.join(ROOT, 'packages');

  it('writes versioned store zips that hold the model and no tests or source maps', () => {
    execFileSync(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'scripts/package.ts')], { cwd: ROOT, stdio: 'ignore' });
    for (const browser of ['chrome', 'firefox']) {
      const zip = path.join(packages, `spotter-${browser}-${pkg.version}.zip`);
      // The store budget with both backbones bundled: 12 MB a zip.
      expect(statSync(zip).size, `${browser} zip size`).toBeLessThanOrEqual(12 * 1024 * 1024);
      const entries = zipEntries(zip);
      expect(entries).toContain('manifest.json');
      expect(entries).toContain('models/mobilenet-edgetpu/group1-shard1of1.bin');
      expect(entries).toContain('models/mobilenet-v2/group1-shard1of1.bin');
      expect(entries).toContain('wasm/tfjs-backend-wasm-simd.wasm');
      expect(entries.filter((e) => /\.map$|(^|\/)tests?\/|\.test\./.test(e))).toEqual([]);
    }
  });

  it('writes a source archive from which build-for-amo reproduces dist/firefox exactly', () => {
    const entries = zipEntries(path.join(packages, `spotter-source-${pkg.version}.zip`));
    expect(entries).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'manifest.json', 'README.md', 'amo-models/mobilenet_edgetpu_1.0_224_uint8_imagenet_tfjs/model.json', 'amo-models/mobilenet_v2_1.0_224_quant_imagenet_tfjs/group1-shard1of1.bin']),
    );
    expect(entries.some((e) => e.startsWith('node_modules/') || e.startsWith('dist/'))).toBe(false);

    const workdir = mkdtempSync(path.join(os.tmpdir(), 'spotter-amo-'));
    try {
      execFileSync('unzip', ['-q', path.join(packages, `spotter-source-${pkg.version}.zip`), '-d', workdir]);
      // As a reviewer would: no ../shared beside it, only what the archive holds.
      // A clean environment: vitest's NODE_ENV=test would change the bundle, and npm ci must not see it.
      const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('VITEST') && key !== 'SPOTTER_MODELS_DIR'));
      execFileSync('npm', ['run', 'build-for-amo'], { cwd: workdir, stdio: 'ignore', env });
      expect(digestTree(path.join(workdir, 'dist/firefox'))).toEqual(digestTree(path.join(DIST, 'firefox')));
    } finally {
      rmSync(workdir, { recursive: true, force: true });
    }
  }, 600_000);
});
