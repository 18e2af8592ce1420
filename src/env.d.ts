/** Which browser this bundle is built for (vite.config.ts `define`): lets each build drop the other's code. */
declare const __SPOTTER_BROWSER__: 'chrome' | 'firefox';
