/**
 * `npm start`: serves the demo page on 127.0.0.1 and opens Debian's Chromium with the freshly
 * built extension loaded, in a throwaway profile. `npm run start:firefox` (this with --firefox)
 * does the same in Firefox ESR through `web-ext run` (a temporary add-on). Ctrl+C stops both.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROME_DIST, CHROMIUM } from '../tests/e2e/support/chrome';
import { FIREFOX } from '../tests/e2e/support/browsers';
import { DIST, ROOT } from './paths';
import { startServer } from '../tests/e2e/support/fixture-server';
import { demoPage } from './demo-page';

const server = await startServer((url) => (url.pathname === '/' ? { status: 200, type: 'text/html', body: demoPage() } : undefined));
const profile = mkdtempSync(path.join(os.tmpdir(), 'spotter-profile-'));
console.log(`Spotter demo page: ${server.origin}/  (extension: ${process.argv.includes('--firefox') ? path.join(DIST, 'firefox') : CHROME_DIST})`);
if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  console.warn('No display found: run this in a desktop session, or under xvfb-run to try it headless.');
}
const chromiumArgs = [
  // Chromium refuses to run as root without this; as a normal user the sandbox stays on.
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
  `--user-data-dir=${profile}`,
  `--disable-extensions-except=${CHROME_DIST}`,
  `--load-extension=${CHROME_DIST}`,
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  `${server.origin}/`,
];
const firefoxArgs = ['run', '--source-dir', path.join(DIST, 'firefox'), `--firefox=${FIREFOX}`, '--no-reload', `--start-url=${server.origin}/`];
const browser = process.argv.includes('--firefox')
  ? spawn(path.join(ROOT, 'node_modules/.bin/web-ext'), firefoxArgs, { stdio: 'inherit' })
  : spawn(CHROMIUM, chromiumArgs, { stdio: 'inherit' });
const stop = () => {
  browser.kill();
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
browser.on('exit', stop);
