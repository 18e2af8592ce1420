/**
 * Spotter never uses Preact's dangerouslySetInnerHTML, so the build removes it: the one place in
 * Preact that assigns markup to innerHTML becomes an error. A hardening (page data can never be
 * rendered as HTML through it), and it keeps `web-ext lint` free of the UNSAFE_VAR_ASSIGNMENT warning.
 * The build fails if Preact changes shape and the assignment is not found exactly once.
 */
import type { Plugin } from 'vite';

const ASSIGNMENT = /(\w+)\.innerHTML=(\w+)\.__html/g;

export function disablePreactInnerHtml(): Plugin {
  return {
    name: 'spotter:disable-preact-inner-html',
    enforce: 'pre',
    transform(code, id) {
      if (!/[\\/]node_modules[\\/]preact[\\/]dist[\\/]preact\.module\.js$/.test(id)) return null;
      const matches = code.match(ASSIGNMENT) ?? [];
      if (matches.length !== 1) this.error(`expected one innerHTML assignment in ${id}, found ${matches.length}: update scripts/vite-no-inner-html.ts`);
      return { code: code.replace(ASSIGNMENT, '(()=>{throw new Error("dangerouslySetInnerHTML is disabled in Spotter")})()'), map: null };
    },
  };
}
