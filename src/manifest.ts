/**
 * Per-browser manifests: manifest.json is the shared base, and each browser's differences are
 * applied here at build time (the darkreader way), never by hand-kept copies.
 */
export type TargetBrowser = 'chrome' | 'firefox';

export type Manifest = Record<string, unknown> & { permissions?: string[]; background?: Record<string, unknown> };

/** Firefox add-on id; fixed so storage, permissions and AMO updates follow the add-on. */
export const GECKO_ID = 'spotter@spotter-extension.org';

export function manifestFor(base: Manifest, browser: TargetBrowser, version: string): Manifest {
  const manifest: Manifest = structuredClone({ ...base, version });
  if (browser === 'chrome') {
    manifest.permissions = [...(manifest.permissions ?? []), 'offscreen'];
    // runtime.getContexts (used to find the offscreen document) arrived in Chrome 116.
    manifest.minimum_chrome_version = '116';
  } else {
    // No offscreen API in Firefox: an event page (it has a DOM, WebGL and WASM) hosts the engine itself.
    const worker = manifest.background?.service_worker;
    manifest.background = { scripts: [worker], type: 'module' };
    manifest.browser_specific_settings = {
      gecko: {
        id: GECKO_ID,
        // data_collection_permissions (nothing is collected) is understood from Firefox 142 on.
        strict_min_version: '142.0',
        data_collection_permissions: { required: ['none'] },
      },
    };
  }
  return manifest;
}
