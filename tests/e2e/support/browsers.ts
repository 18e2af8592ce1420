/**
 * One driver interface over both browsers, so the same end-to-end test files run in Debian's
 * Chromium and in Firefox ESR (puppeteer-core over CDP and over WebDriver BiDi respectively).
 *
 * What differs, and why:
 * - Menu clicks: Chromium runs the real onClicked listeners with contextMenus.onClicked.dispatch()
 *   in the service worker; Firefox has no dispatch(), so the test calls the same handler through
 *   runtime.getBackgroundPage() (the background exposes it as spotterBackground.onMenuClicked).
 * - Reading the overlay (a closed shadow root): Chromium through DevTools (DOM.getDocument with
 *   pierce); Firefox by asking the content script, which can read its own closed roots.
 * - Extension pages: Firefox's page.goto('moz-extension://…') hangs, so it navigates over BiDi
 *   without waiting and polls location.href.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { DIST } from '../../../scripts/paths';
import { GECKO_ID } from '../../../src/manifest';
import { launchChrome, rightClick, rightClickAndChoose, type ChromeSession, type MenuClick } from './chrome';
import { readOverlays, waitForSettledOverlay, type OverlaySnapshot } from './overlay';

export type BrowserName = 'chromium' | 'firefox';

/** A protocol response as the background sends it. */
export interface SpotterReply<T = unknown> {
  ok: boolean;
  result: T;
  error?: { message: string };
}

/** Sends a request from one of Spotter's own pages (as the popup does) and returns the raw reply. */
export function askFrom<T = unknown>(extensionPage: Page, message: unknown): Promise<SpotterReply<T>> {
  return extensionPage.evaluate((m: unknown) => {
    const api = ((globalThis as unknown as { browser?: typeof chrome }).browser ?? chrome) as typeof chrome;
    return api.runtime.sendMessage(m) as Promise<SpotterReply<T>>;
  }, message);
}

/** Spotter's popup view for the tab showing `page`, opened as a normal tab (popup.html?tabId=N), as tests and power users do. */
export async function openPopupFor(spotter: Pick<SpotterSession, 'openExtensionPage' | 'tabIdOf'>, page: Page): Promise<Page> {
  return spotter.openExtensionPage(`src/popup/popup.html?tabId=${await spotter.tabIdOf(page)}`);
}

/** SPOTTER_E2E_BROWSERS=chromium (or firefox) narrows a local run; CI runs both, always. */
export const E2E_BROWSERS: BrowserName[] = e2eBrowsers(process.env.SPOTTER_E2E_BROWSERS, Boolean(process.env.CI));

function e2eBrowsers(setting: string | undefined, ci: boolean): BrowserName[] {
  const all: BrowserName[] = ['chromium', 'firefox'];
  const names = setting === undefined ? all : setting.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !all.includes(name as BrowserName));
  if (unknown.length > 0) throw new Error(`SPOTTER_E2E_BROWSERS: unknown browser ${unknown.join(', ')} (use chromium, firefox or both)`);
  if (ci && all.some((name) => !names.includes(name))) throw new Error('SPOTTER_E2E_BROWSERS narrows the end-to-end tests to one browser; CI must run both.');
  return names as BrowserName[];
}

export interface SpotterSession {
  name: BrowserName;
  browser: Browser;
  extensionUrl(pathInExtension: string): string;
  openExtensionPage(pathInExtension: string): Promise<Page>;
  tabIdOf(page: Page): Promise<number>;
  /** Right-clicks the element for real, then runs the extension's menu handler as the browser would. */
  chooseMenuItem(page: Page, selector: string, click: MenuClick): Promise<void>;
  overlays(page: Page): Promise<OverlaySnapshot[]>;
  /** The toolbar button's badge text and tooltip in the page's tab. */
  toolbarOf(page: Page): Promise<{ badge: string; title: string }>;
  /** Chromium only: the CDP-level session (service worker, offscreen document, network log). */
  chrome?: ChromeSession;
  /**
   * Firefox only: reads (and with `value`, sets) a marker on the event page's window, waking the
   * page if it was unloaded: a fresh instance has no marker. (eval is blocked there by the CSP.)
   */
  eventPageMarker?(value?: string): Promise<string | null>;
  /** Quits the browser and starts it again on the same profile, with Spotter loaded again (Firefox: with `options` in place of the launch's). */
  restart(options?: LaunchOptions): Promise<SpotterSession>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Firefox: unload the idle event page after this long (Firefox's default is 30 s). */
  eventPageIdleMs?: number;
  /**
   * Firefox: the colour scheme pages see, set by a pref at launch, because puppeteer's
   * emulateMediaFeatures needs CDP, which Firefox lacks. (Chromium: use page.emulateMediaFeatures.)
   */
  colorScheme?: 'light' | 'dark';
}

export function launchSpotter(name: BrowserName, options: LaunchOptions = {}): Promise<SpotterSession> {
  return name === 'chromium' ? chromium() : firefox(undefined, options);
}

async function chromium(existing?: ChromeSession): Promise<SpotterSession> {
  const session = existing ?? (await launchChrome());
  const tabIdOf = (page: Page) => session.inWorker(async (url: string) => (await chrome.tabs.query({})).find((tab) => tab.url === url)!.id!, page.url());
  return {
    name: 'chromium',
    browser: session.browser,
    chrome: session,
    extensionUrl: session.extensionUrl,
    async openExtensionPage(p) {
      const page = await session.browser.newPage();
      await page.goto(session.extensionUrl(p));
      return page;
    },
    tabIdOf,
    chooseMenuItem: (page, selector, click) => rightClickAndChoose(session, page, selector, click),
    overlays: readOverlays,
    toolbarOf: async (page) =>
      session.inWorker(async (tabId: number) => ({ badge: await chrome.action.getBadgeText({ tabId }), title: await chrome.action.getTitle({ tabId }) }), await tabIdOf(page)),
    restart: async () => chromium(await session.restart()),
    close: () => session.close(),
  };
}

export const FIREFOX = process.env.SPOTTER_FIREFOX ?? '/usr/bin/firefox-esr';
/** A fixed moz-extension:// UUID, so the tests know the extension's pages' URLs. */
const FIREFOX_UUID = '6f1b6c43-3c1e-4a2f-9a53-0d5b7a1b2c3d';

async function firefox(existingProfile?: string, options: LaunchOptions = {}): Promise<SpotterSession> {
  const profile = existingProfile ?? (await mkdtemp(path.join(os.tmpdir(), 'spotter-firefox-')));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: profile,
    args: ['--remote-allow-system-access'],
    defaultViewport: { width: 1280, height: 900 },
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: FIREFOX_UUID }),
      'xpinstall.signatures.required': false,
      // A temporary add-on is uninstalled when Firefox quits: keep its data for the restart test.
      'extensions.webextensions.keepStorageOnUninstall': true,
      'extensions.webextensions.keepUuidOnUninstall': true,
      ...(options.eventPageIdleMs ? { 'extensions.background.idle.timeout': options.eventPageIdleMs } : {}),
      // 0 = dark, 1 = light, for every web and extension page.
      ...(options.colorScheme ? { 'layout.css.prefers-color-scheme.content-override': options.colorScheme === 'dark' ? 0 : 1 } : {}),
    },
  });
  await browser.installExtension(path.join(DIST, 'firefox'));
  const base = `moz-extension://${FIREFOX_UUID}/`;

  const openExtensionPage = async (p: string): Promise<Page> => {
    const page = await browser.newPage();
    const context = (page.mainFrame() as unknown as { browsingContext: { navigate(url: string, wait: string): Promise<unknown> } }).browsingContext;
    void context.navigate(base + p, 'none').catch(() => undefined);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const href = await page.evaluate(() => (document.readyState === 'complete' ? location.href : '')).catch(() => '');
      if (href.startsWith(base)) return page;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`could not open ${base + p}`);
  };
  // An inert extension page (the popup pointed at no tab) from which the tests use extension APIs.
  const control = await openExtensionPage('src/popup/popup.html?tabId=none');

  const tabIdOf = (page: Page) =>
    control.evaluate(async (url: string) => {
      const api = (globalThis as unknown as { browser: typeof chrome }).browser;
      // Not query({ url }): match patterns cannot name a port in Firefox.
      return (await api.tabs.query({})).find((tab) => tab.url === url)!.id!;
    }, page.url());

  return {
    name: 'firefox',
    browser,
    extensionUrl: (p) => base + p,
    openExtensionPage,
    tabIdOf,
    async chooseMenuItem(page, selector, { pageRunsInBetween, ...click }) {
      await rightClick(page, selector);
      await page.keyboard.press('Escape'); // Firefox's own context menu
      if (pageRunsInBetween) await page.evaluate(pageRunsInBetween);
      const tabId = await tabIdOf(page);
      await control.evaluate(
        async (info: MenuClick & { tabId: number; pageUrl: string }) => {
          const api = (globalThis as unknown as { browser: typeof chrome }).browser;
          const background = (await (api.runtime as unknown as { getBackgroundPage(): Promise<Window> }).getBackgroundPage()) as Window & {
            spotterBackground: { onMenuClicked(info: unknown, tab: unknown): void };
          };
          const tab = await api.tabs.get(info.tabId);
          const data = { menuItemId: info.menuItemId ?? 'spotter-classify', editable: false, frameId: info.frameId ?? 0, pageUrl: info.pageUrl, ...(info.srcUrl ? { srcUrl: info.srcUrl } : {}), ...(info.mediaType ? { mediaType: info.mediaType } : {}) };
          background.spotterBackground.onMenuClicked(data, tab);
        },
        { ...click, tabId, pageUrl: page.url() },
      );
    },
    async overlays(page) {
      const tabId = await tabIdOf(page);
      return control.evaluate(async (id: number) => {
        const api = (globalThis as unknown as { browser: typeof chrome }).browser;
        return (await api.tabs.sendMessage(id, { type: 'describe-overlays' }, { frameId: 0 })) as OverlaySnapshot[];
      }, tabId);
    },
    async toolbarOf(page) {
      const tabId = await tabIdOf(page);
      return control.evaluate(async (id: number) => {
        const api = (globalThis as unknown as { browser: typeof chrome }).browser;
        return { badge: await api.action.getBadgeText({ tabId: id }), title: await api.action.getTitle({ tabId: id }) };
      }, tabId);
    },
    eventPageMarker: (value) =>
      control.evaluate(async (next: string | null) => {
        const api = (globalThis as unknown as { browser: typeof chrome }).browser;
        const background = (await (api.runtime as unknown as { getBackgroundPage(): Promise<Window> }).getBackgroundPage()) as Window & { spotterTestMarker?: string };
        if (next !== null) background.spotterTestMarker = next;
        return background.spotterTestMarker ?? null;
      }, value ?? null),
    async restart(nextOptions = options) {
      await browser.close();
      return firefox(profile, nextOptions);
    },
    async close() {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** A new tab on `url`, once every image on it has loaded (content scripts can see naturalWidth 0 before). */
export async function openPageWithImages(spotter: Pick<SpotterSession, 'browser'>, url: string): Promise<Page> {
  const page = await spotter.browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => [...document.images].every((img) => img.complete && img.naturalWidth > 0));
  return page;
}

/** Right-clicks the image `selector` names, chooses Classify with Spotter, waits for the overlay to settle and closes it with Esc. */
export async function classifyImage(spotter: Pick<SpotterSession, 'chooseMenuItem' | 'overlays'>, page: Page, selector: string): Promise<OverlaySnapshot> {
  const srcUrl = await page.$eval(selector, (img) => (img as HTMLImageElement).currentSrc);
  await spotter.chooseMenuItem(page, selector, { srcUrl, mediaType: 'image' });
  const overlay = await waitForSettledOverlay(page, 60_000, spotter.overlays);
  await page.keyboard.press('Escape');
  return overlay;
}
