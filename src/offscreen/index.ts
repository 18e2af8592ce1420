/**
 * Chrome's offscreen document: keeps the engine's worker (a service worker can start no workers
 * and has no DOM), draws through an <img> what the worker asks, and relays engine requests from
 * the background. The engine itself runs in the worker (engine/engine-worker.ts), so that a job
 * stuck for good stops only the worker, which this document restarts (engine/worker-engine.ts).
 */
import browser, { type Runtime } from 'webextension-polyfill';
import { EngineMessageSchema, isAddressedToEngine, parseMessage } from '../shared/protocol';
import { rejection } from '../shared/respond';
import { isOwnExtensionPage } from '../shared/senders';
import { WorkerEngine } from '../engine/worker-engine';

const engine = new WorkerEngine({ start: () => new Worker(new URL('../engine/engine-worker.ts', import.meta.url), { type: 'module' }) });
const self = { id: browser.runtime.id, baseUrl: browser.runtime.getURL('') };

// Registered synchronously at start-up, so a request sent right after createDocument() is not lost.
browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
  if (!isAddressedToEngine(message)) return undefined; // the background answers those
  if (!isOwnExtensionPage(sender, self)) return Promise.resolve(rejection('Engine requests are accepted only from Spotter itself.'));
  const parsed = parseMessage(EngineMessageSchema, message);
  if (!parsed.ok) return Promise.resolve(rejection(`Malformed engine request: ${parsed.reason}`));
  if (parsed.value.type === 'engine/ping') {
    // The background's heartbeat: this document's thread runs; and its worker is checked at once.
    engine.check();
    return Promise.resolve(true);
  }
  return engine.request(parsed.value.request);
});

// Load the model now: the first click should not pay for it.
void engine.request({ type: 'get-status', warmUp: true });
