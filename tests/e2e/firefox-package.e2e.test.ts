/**
 * The Firefox build (dist/firefox) is store-clean: `web-ext lint` with warnings treated as errors,
 * an event page instead of a service worker, no offscreen API, and the model + wasm bundled.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
    for (const file of ['models/mobilenet_v2/model.json', 'models/mobilenet_v2/group1-shard1of1.bin', 'wasm/tfjs-backend-wasm-simd.wasm', 'wasm/tfjs-backend-wasm.wasm']) {
      expect(existsSync(path.join(FIREFOX_DIST, file)), file).toBe(true);
    }
    const scripts = readdirSync(path.join(FIREFOX_DIST, 'assets')).filter((f) => f.endsWith('.js'));
    for (const script of scripts) expect(readFileSync(path.join(FIREFOX_DIST, 'assets', script), 'utf8'), script).not.toMatch(/chrome\.offscreen|offscreen\.createDocument/);
  });
});
