import browser, { type Runtime } from 'webextension-polyfill';
import { BackgroundRequestSchema, isAddressedToEngine, parseMessage } from '../shared/protocol';
import { toErrorInfo } from '../shared/errors';
import { rejection } from '../shared/respond';
import { isOwnContentScript, isOwnExtensionPage } from '../shared/senders';
import type { EngineClient } from './engine-client';

/** Validates every request to the background, checks who sent it, and routes it. */
export function listenForRequests(engine: EngineClient): void {
  const self = { id: browser.runtime.id, baseUrl: browser.runtime.getURL('') };
  browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
    if (isAddressedToEngine(message)) return undefined; // for the offscreen document, not us
    const parsed = parseMessage(BackgroundRequestSchema, message);
    if (!parsed.ok) return Promise.resolve(rejection(`Malformed request: ${parsed.reason}`));
    const request = parsed.value;
    switch (request.type) {
      case 'classify-image':
        // Pages may only ask through our content script; extension pages (popup) may too.
        if (!isOwnContentScript(sender, self) && !isOwnExtensionPage(sender, self)) return Promise.resolve(rejection('Not allowed from this sender.'));
        return orError(engine.classify(request.source));
      case 'get-status':
        if (!isOwnExtensionPage(sender, self)) return Promise.resolve(rejection('Status is only for Spotter\'s own pages.'));
        return orError(engine.status(request.warmUp));
    }
  });
}

/** The engine client answers with a protocol response; if reaching it fails, say so in one. */
function orError<T>(reply: Promise<T>): Promise<T | { ok: false; error: ReturnType<typeof toErrorInfo> }> {
  return reply.catch((error: unknown) => ({ ok: false as const, error: toErrorInfo(error) }));
}
