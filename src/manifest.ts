/**
 * Per-browser manifests: manifest.json is the shared base, and each browser's differences are
 * applied here at build time (the darkreader way), never by hand-kept copies.
 */
export type TargetBrowser = 'chrome' | 'firefox';

export type Manifest = Record<string, unknown> & { permissions?: string[] };

export function manifestFor(base: Manifest, browser: TargetBrowser, version: string): Manifest {
  const manifest: Manifest = structuredClone({ ...base, version });
  if (browser === 'chrome') {
    manifest.permissions = [...(manifest.permissions ?? []), 'offscreen'];
    // runtime.getContexts (used to find the offscreen document) arrived in Chrome 116.
    manifest.minimum_chrome_version = '116';
  }
  return manifest;
}
