/**
 * Chrome's offscreen document: hosts the engine (a service worker has no DOM, WebGL or
 * createImageBitmap-to-canvas path) and answers engine requests from the background.
 */
import browser, { type Runtime } from 'webextension-polyfill';
import { BrowserEngineHost } from '../engine/browser-host';
import { EngineRequestSchema, isAddressedToEngine, parseMessage } from '../shared/protocol';
import { rejection, respond } from '../shared/respond';
import { isOwnExtensionPage } from '../shared/senders';

const host = new BrowserEngineHost((path) => browser.runtime.getURL(path));
const self = { id: browser.runtime.id, baseUrl: browser.runtime.getURL('') };

// Registered synchronously at start-up, so a request sent right after createDocument() is not lost.
browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
  if (!isAddressedToEngine(message)) return undefined; // the background answers those
  if (!isOwnExtensionPage(sender, self)) return Promise.resolve(rejection('Engine requests are accepted only from Spotter itself.'));
  const parsed = parseMessage(EngineRequestSchema, message);
  if (!parsed.ok) return Promise.resolve(rejection(`Malformed engine request: ${parsed.reason}`));
  return respond(() => host.handle(parsed.value.request));
});

// Reachable from DevTools and `npm run bench` (only extension pages can see this document).
Object.assign(globalThis, { spotterHost: host });

// Load the model now: the first click should not pay for it.
void host.handle({ type: 'get-status', warmUp: true });
