/**
 * The background: Chrome's service worker (Firefox's event page in a later build). It keeps no
 * state of its own that matters, so it can be stopped between any two events.
 */
import browser from 'webextension-polyfill';
import { createMenus, listenForMenuClicks, refreshLabelMenu } from './context-menu';
import { OffscreenEngineClient } from './offscreen-engine';
import { listenForRequests } from './router';

const engine = new OffscreenEngineClient();
// Listeners first and synchronously: a restarted worker must see the event that woke it.
listenForMenuClicks();
listenForRequests(engine, () => void refreshLabelMenu());

browser.runtime.onInstalled.addListener(() => {
  // Menus persist across worker restarts; (re)create them only when installed or updated.
  void createMenus();
  // Measure the backends and load the model now, so the very first click is quick too.
  void engine.request({ type: 'get-status', warmUp: true });
});
