/**
 * Spotter never uses Preact's dangerouslySetInnerHTML, so the build removes it: the one place in
 * Preact that assigns markup to innerHTML becomes an error. A hardening (page data can never be
 * rendered as HTML through it), and it keeps `web-ext lint` free of the UNSAFE_VAR_ASSIGNMENT warning.
 * The build fails if Preact changes shape and the assignment is not found exactly once.
 */
import type { Plugin } from 'vite';

// Minified names may hold `$`.
const ASSIGNMENT = /([\w$]+)\.innerHTML=([\w$]+)\.__html/g;
const DISABLED = '(()=>{throw new Error("dangerouslySetInnerHTML is disabled in Spotter")})()';

/** For the main build's modules (list it before crx()). */
export function disablePreactInnerHtml(): Plugin {
  return {
    name: 'spotter:disable-preact-inner-html',
    enforce: 'pre',
    transform(code, id) {
      if (!/[\\/]node_modules[\\/]preact[\\/]dist[\\/]preact\.module\.js$/.test(id)) return null;
      const matches = code.match(ASSIGNMENT) ?? [];
      if (matches.length !== 1) this.error(`expected one innerHTML assignment in ${id}, found ${matches.length}: update scripts/vite-no-inner-html.ts`);
      return { code: code.replace(ASSIGNMENT, DISABLED), map: null };
    },
  };
}

/**
 * For the content script, which crxjs bundles in a build of its own that runs no plugins of ours
 * and hands back finished code (list it after crx(), so it sees that code). Also the last check
 * that no script of the package assigns markup to innerHTML.
 */
export function disablePreactInnerHtmlInOutput(): Plugin {
  return {
    name: 'spotter:disable-preact-inner-html-in-output',
    enforce: 'post',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const output of Object.values(bundle)) {
        if (!output.fileName.endsWith('.js')) continue;
        if (output.type === 'chunk') {
          if ((output.code.match(ASSIGNMENT) ?? []).length > 0) this.error(`${output.fileName} still assigns markup to innerHTML`);
        } else if (typeof output.source === 'string' && output.source.includes('__html')) {
          // Preact is in there: its one assignment must be found, or the guard would be gone unnoticed.
          const found = (output.source.match(ASSIGNMENT) ?? []).length;
          if (found !== 1) this.error(`expected one innerHTML assignment in ${output.fileName}, found ${found}: update scripts/vite-no-inner-html.ts`);
          output.source = output.source.replace(ASSIGNMENT, DISABLED);
        }
      }
    },
  };
}
