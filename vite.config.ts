import { crx } from '@crxjs/vite-plugin';
import { defineConfig } from 'vite';
import baseManifest from './manifest.json' with { type: 'json' };
import pkg from './package.json' with { type: 'json' };
import { disablePreactInnerHtml, disablePreactInnerHtmlInOutput } from './scripts/vite-no-inner-html.ts';
import { manifestFor, type TargetBrowser } from './src/manifest.ts';

const browser: TargetBrowser = process.env.SPOTTER_BROWSER === 'firefox' ? 'firefox' : 'chrome';

export default defineConfig({
  // Provisioned by scripts/provision.ts: the model and the .wasm binaries (never committed).
  publicDir: '.provisioned',
  build: {
    outDir: `dist/${browser}`,
    emptyOutDir: true,
    target: 'es2022',
    // No source maps in the store packages. The code is minified: AMO reviewers rebuild it from the
    // source archive (npm run package, then npm run build-for-amo), which a packaging test checks.
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    // Firefox has no offscreen document: its event page hosts the engine.
    rollupOptions: browser === 'chrome' ? { input: { offscreen: 'src/offscreen/offscreen.html' } } : {},
  },
  define: { __SPOTTER_BROWSER__: JSON.stringify(browser) },
  // The engine's worker (engine/engine-worker.ts) is a module worker, with its chunks beside it.
  // Legal comments left out as in the main build (TF.js alone carries over a thousand licence headers).
  worker: { format: 'es', rolldownOptions: { output: { comments: { legal: false } } } },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  plugins: [disablePreactInnerHtml(), crx({ manifest: manifestFor(baseManifest, browser, pkg.version) as never, browser, contentScripts: { standaloneFiles: ['src/content/index.ts'] } }), disablePreactInnerHtmlInOutput()],
});
