/**
 * Drives Debian's Chromium with the built extension through puppeteer-core (which, unlike
 * playwright-core, exposes the offscreen document). Headless, the browser opens no right-click
 * menu: tests right-click the element for real (so the content script sees the contextmenu
 * event), then run the extension's real onClicked listeners via dispatch(). The menu itself is
 * driven for real, headful, in native-menu.e2e.test.ts.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type CDPSession, type Page, type Target } from 'puppeteer-core';
import { DIST } from '../../../scripts/paths';

export const CHROMIUM = process.env.SPOTTER_CHROMIUM ?? '/usr/bin/chromium';
export const CHROME_DIST = path.join(DIST, 'chrome');

export interface ChromeSession {
  browser: Browser;
  extensionId: string;
  extensionUrl(pathInExtension: string): string;
  /** Runs `fn(arg)` in the extension's service worker (waking and releasing a restarted one). */
  inWorker<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  workerRunning(): Promise<boolean>;
  /** Stops the extension's service worker, as Chrome does after 30 s idle. */
  stopWorker(): Promise<void>;
  offscreenTarget(): Promise<Target>;
  /** Every network request any target made (page, worker, offscreen document), by URL. */
  requests: { target: string; url: string }[];
  /** Quits the browser and starts it again on the same profile (what survives a browser restart). */
  restart(): Promise<ChromeSession>;
  close(): Promise<void>;
}

const WORKER_URL = /^chrome-extension:\/\/([a-p]{32})\/service-worker-loader\.js$/;

/**
 * @param headful with a window on the X display (xvfb-run), where the browser's own right-click
 *   menu opens and can be driven with the keyboard (native-menu.e2e.test.ts); else headless.
 */
export async function launchChrome(profile?: string, { headful = false } = {}): Promise<ChromeSession> {
  const userDataDir = profile ?? (await mkdtemp(path.join(os.tmpdir(), 'spotter-chromium-')));
  if (!profile) {
    // Developer mode from the start: only then does Chromium collect extensions' runtime and manifest errors.
    await mkdir(path.join(userDataDir, 'Default'), { recursive: true });
    await writeFile(path.join(userDataDir, 'Default', 'Preferences'), JSON.stringify({ extensions: { ui: { developer_mode: true } } }));
  }
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: !headful,
    pipe: true,
    userDataDir,
    enableExtensions: [CHROME_DIST],
    defaultViewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  const requests: ChromeSession['requests'] = [];
  const watched = new WeakSet<Target>();
  const watch = async (target: Target) => {
    if (watched.has(target) || !['page', 'background_page', 'other'].includes(target.type())) return;
    watched.add(target);
    try {
      const session: CDPSession = await target.createCDPSession();
      session.on('Network.requestWillBeSent', (event) => requests.push({ target: target.url(), url: event.request.url }));
      await session.send('Network.enable');
    } catch {
      // Targets that close while we attach are of no interest.
    }
  };
  browser.on('targetcreated', (target: Target) => void watch(target));
  for (const target of browser.targets()) await watch(target);

  const workerTarget = await browser.waitForTarget((t) => t.type() === 'service_worker' && WORKER_URL.test(t.url()), { timeout: 30_000 });
  const extensionId = WORKER_URL.exec(workerTarget.url())![1]!;
  const base = `chrome-extension://${extensionId}/`;

  // puppeteer-core's own view of the worker goes stale when Chrome restarts it, and the restarted
  // worker is held "waiting for debugger" by the automation's auto-attach (no real browser does
  // that). So the tests find and attach to the worker themselves, over the browser's CDP session.
  const browserCdp = await browser.target().createCDPSession();
  const workerSessions = new Map<string, CDPSession>();
  const runningWorkerId = async (): Promise<string | undefined> => {
    const { targetInfos } = await browserCdp.send('Target.getTargets');
    return targetInfos.find((t) => t.type === 'service_worker' && t.url.startsWith(base))?.targetId;
  };
  const workerSession = async (): Promise<CDPSession> => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const targetId = await runningWorkerId();
      if (targetId) {
        let session = workerSessions.get(targetId);
        if (!session) {
          const { sessionId } = await browserCdp.send('Target.attachToTarget', { targetId, flatten: true });
          session = browserCdp.connection()?.session(sessionId) ?? undefined;
          if (!session) throw new Error('could not attach to the service worker');
          workerSessions.set(targetId, session);
          session.on('Network.requestWillBeSent', (event) => requests.push({ target: `${base}service-worker-loader.js`, url: event.request.url }));
          await session.send('Network.enable');
          // Release it until its script has run (the extension APIs are bound by then).
          for (let tries = 0; tries < 100; tries++) {
            await session.send('Runtime.runIfWaitingForDebugger');
            const { result } = await session.send('Runtime.evaluate', { expression: "typeof chrome === 'object' && !!chrome.runtime?.id", returnByValue: true });
            if (result.value === true) break;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
        return session;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the service worker did not start within 30 s');
  };

  await workerSession(); // watch the worker's network from the start

  return {
    browser,
    extensionId,
    requests,
    extensionUrl: (p) => base + p,
    workerRunning: async () => (await runningWorkerId()) !== undefined,
    async stopWorker() {
      const targetId = await runningWorkerId();
      if (!targetId) throw new Error('no running service worker to stop');
      // An attached DevTools session keeps a worker alive: let go of ours first.
      for (const session of workerSessions.values()) await session.detach().catch(() => undefined);
      workerSessions.clear();
      await browserCdp.send('Target.closeTarget', { targetId });
    },
    async inWorker(fn, arg) {
      const session = await workerSession();
      const { result, exceptionDetails } = await session.send('Runtime.evaluate', {
        expression: `(${fn.toString()})(${JSON.stringify(arg)})`,
        awaitPromise: true,
        returnByValue: true,
      });
      if (exceptionDetails) throw new Error(`in the service worker: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
      return result.value;
    },
    offscreenTarget: () => browser.waitForTarget((t) => t.url() === `${base}src/offscreen/offscreen.html`, { timeout: 60_000 }),
    async restart() {
      await browser.close();
      return launchChrome(userDataDir, { headful });
    },
    async close() {
      await browser.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface MenuClick {
  srcUrl?: string;
  mediaType?: 'image' | 'video';
  /** Defaults to "Classify with Spotter". */
  menuItemId?: string;
  /** Defaults to the top frame (0); a frame that does not exist makes the command fail. */
  frameId?: number;
  /** Script the page runs between the right-click and the menu command (a page trying to fool Spotter). */
  pageRunsInBetween?: string;
}

/** A real right-click in the middle of the element, so the content script sees the contextmenu event. */
export async function rightClick(page: Page, selector: string): Promise<void> {
  const element = await page.$(selector);
  if (!element) throw new Error(`no element ${selector}`);
  await element.scrollIntoView();
  const box = await element.boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2, { button: 'right' });
}

/**
 * Right-clicks the element for real, then runs the extension's contextMenus.onClicked listeners
 * in its service worker with the info Chrome would pass for that element.
 */
export async function rightClickAndChoose(session: ChromeSession, page: Page, selector: string, { pageRunsInBetween, ...click }: MenuClick): Promise<void> {
  await rightClick(page, selector);
  if (pageRunsInBetween) await page.evaluate(pageRunsInBetween);
  const pageUrl = page.url();
  await session.inWorker(
    async (info: MenuClick & { pageUrl: string }) => {
      const [tab] = await chrome.tabs.query({ url: info.pageUrl });
      if (!tab) throw new Error(`no tab for ${info.pageUrl}`);
      const data = { menuItemId: info.menuItemId ?? 'spotter-classify', editable: false, frameId: info.frameId ?? 0, pageUrl: info.pageUrl, ...(info.srcUrl ? { srcUrl: info.srcUrl } : {}), ...(info.mediaType ? { mediaType: info.mediaType } : {}) };
      // Undocumented but real: runs every listener registered with onClicked.addListener.
      (chrome.contextMenus.onClicked as unknown as { dispatch(info: unknown, tab: unknown): void }).dispatch(data, tab);
    },
    { ...click, pageUrl },
  );
}
