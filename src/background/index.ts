/**
 * The background: Chrome's service worker, Firefox's event page. It keeps no state of its own
 * that matters, so it can be stopped between any two events.
 */
import browser from 'webextension-polyfill';
import { createMenus, listenForMenuClicks, onMenuClicked, refreshLabelMenu } from './context-menu';
import type { EngineClient } from './engine-client';
import type { ChangeNotice, RequestOf, RequestType } from '../shared/protocol';
import { OffscreenEngineClient } from './offscreen-engine';
import { listenForRequests } from './router';

/**
 * The one browser-specific choice of the background. __SPOTTER_BROWSER__ is a build-time
 * constant, so Chrome's service worker never contains the engine (it lives in the offscreen
 * document) and Firefox's build never calls the offscreen API.
 */
const engine: EngineClient = __SPOTTER_BROWSER__ === 'firefox' ? inProcessEngine() : new OffscreenEngineClient();

/** Loaded on the first request, so the listeners below are registered before any await. */
function inProcessEngine(): EngineClient {
  let client: Promise<EngineClient> | undefined;
  return {
    request: <T extends RequestType>(request: RequestOf<T>) =>
      (client ??= import('./in-process-engine').then(({ InProcessEngineClient }) => new InProcessEngineClient())).then((c) => c.request(request)),
  };
}

// Listeners first and synchronously: a restarted worker must see the event that woke it.
listenForMenuClicks();
listenForRequests(engine, (what) => {
  if (what === 'labels') void refreshLabelMenu();
  // Open Spotter pages refresh their views; with none open there is no receiver, which is fine.
  const notice: ChangeNotice = { type: 'spotter/changed', what };
  browser.runtime.sendMessage(notice).catch(() => undefined);
});

// Firefox has no contextMenus.onClicked.dispatch(): DevTools and the Firefox e2e tests reach the real
// handler here, through runtime.getBackgroundPage() (only Spotter's own pages can).
Object.assign(globalThis, { spotterBackground: { onMenuClicked } });

browser.runtime.onInstalled.addListener(() => {
  // Menus persist across worker restarts; (re)create them only when installed or updated.
  void createMenus();
  // Measure the backends and load the model now, so the very first click is quick too.
  void engine.request({ type: 'get-status', warmUp: true });
});
