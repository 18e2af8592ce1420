/**
 * GPU memory and shader programs over a session on TF.js's WebGL backend, which Node's WASM tests
 * cannot see: the real engine in Chromium (SwiftShader, software WebGL), classifying and labelling
 * the shared photos, which come in many sizes. TF.js keeps released textures for reuse by shape
 * and compiled programs by shape, never freeing either: image-sized work on the GPU used to leave
 * textures (up to 25 MB) and 4 new programs behind per new image size. The engine now resizes in
 * JS (preprocess.ts, resizedViews), so after the first image neither may grow.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { imageSize } from 'image-size';
import puppeteer, { type Browser } from 'puppeteer-core';
import { build, type Rolldown } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVISIONED, ROOT } from '../../scripts/paths';
import { labelledPhotos, RETRAIN_DIR } from '../support/photos';
import { CHROMIUM } from './support/chrome';
import { startServer, type FixtureServer } from './support/fixture-server';
import type { GpuFootprint } from './support/webgl-page';

/** Each photo of a retraining set, with the path the fixture server gives it. */
function retrainPhotos(set: string): { file: string; url: string }[] {
  return readdirSync(path.join(RETRAIN_DIR, set), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((label) =>
      readdirSync(path.join(RETRAIN_DIR, set, label.name))
        .filter((file) => file.endsWith('.jpg'))
        .sort()
        .map((file) => ({ file: path.join(RETRAIN_DIR, set, label.name, file), url: `/retrain/${set}/${label.name}/${file}` })),
    );
}

async function bundlePage(): Promise<string> {
  const output = await build({
    configFile: false,
    logLevel: 'warn',
    root: ROOT,
    build: { write: false, minify: false, lib: { entry: path.join(ROOT, 'tests/e2e/support/webgl-page.ts'), formats: ['iife'], name: 'spotterWebglPage' } },
  });
  const results = (Array.isArray(output) ? output : [output]) as Rolldown.RolldownOutput[];
  const chunk = results.flatMap((result) => result.output).find((item) => item.type === 'chunk');
  if (!chunk || chunk.type !== 'chunk') throw new Error('vite built no script for the WebGL page');
  return chunk.code;
}

describe('GPU memory on WebGL over many image sizes (Chromium, SwiftShader)', () => {
  let server: FixtureServer;
  let browser: Browser;

  beforeAll(async () => {
    const script = await bundlePage();
    server = await startServer((url) => {
      if (url.pathname === '/') return { status: 200, type: 'text/html', body: '<!doctype html><title>WebGL memory</title><script src="/page.js"></script>' };
      if (url.pathname === '/page.js') return { status: 200, type: 'text/javascript', body: script };
      const model = /^\/models\/([\w-]+)\/([\w.-]+)$/.exec(url.pathname);
      if (model) return { status: 200, type: model[2]!.endsWith('.json') ? 'application/json' : 'application/octet-stream', body: readFileSync(path.join(PROVISIONED, 'models', model[1]!, model[2]!)) };
      return undefined;
    });
    // SwiftShader's WebGL must be asked for in headless Chromium.
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, pipe: true, args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking'] });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('holds no more GPU memory and no more shader programs after nine new image sizes than after the first image', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.origin}/`);
    // One photo per size: the shared photos and the ant and bee photos.
    const bySize = new Map<string, string>();
    const candidates = [...labelledPhotos().map((p) => ({ file: p.path, url: `/photos/${p.file}` })), ...retrainPhotos('hymenoptera')];
    for (const { file, url } of candidates) {
      const { width, height } = imageSize(readFileSync(file));
      if (!bySize.has(`${width}x${height}`)) bySize.set(`${width}x${height}`, url);
    }
    const photos = [...bySize.values()].slice(0, 10);
    const { backend, footprints } = await page.evaluate(
      (urls) => (globalThis as unknown as { spotterWebglRun(urls: string[]): Promise<{ backend: string; footprints: GpuFootprint[] }> }).spotterWebglRun(urls),
      photos,
    );
    expect(backend).toBe('webgl');
    const [first, ...rest] = footprints as [GpuFootprint, ...GpuFootprint[]];
    const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
    console.log(footprints.map((f) => `${f.size}: ${f.tensors} tensors, ${mb(f.inUse)} in use, ${mb(f.allocated)} allocated, ${f.programs} programs`).join('\n'));
    expect(new Set(footprints.map((f) => f.size)).size, 'the photos should come in many sizes').toBe(10);
    for (const footprint of rest) {
      expect(footprint.tensors, `${footprint.image} (${footprint.size}) left tensors behind`).toBe(first.tensors);
      expect(footprint.allocated - first.allocated, `${footprint.image} (${footprint.size}): GPU textures held beyond the first image's`).toBe(0);
      expect(footprint.programs - first.programs, `${footprint.image} (${footprint.size}): shader programs compiled for this size`).toBe(0);
    }
  });
});
