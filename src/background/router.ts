import browser, { type Runtime } from 'webextension-polyfill';
import { toErrorInfo } from '../shared/errors';
import { BackgroundRequestSchema, isAddressedToEngine, LABEL_CHANGING_REQUESTS, parseMessage, type RequestType } from '../shared/protocol';
import { rejection } from '../shared/respond';
import { isOwnContentScript, isOwnExtensionPage, mayAskToRead } from '../shared/senders';
import type { EngineClient } from './engine-client';

/** What a web page's content script may ask for; everything else is for Spotter's own pages. */
const CONTENT_SCRIPT_REQUESTS: readonly RequestType[] = ['classify-image', 'add-example'];

/** Validates every request to the background, checks who sent it, and hands it to the engine. */
export function listenForRequests(engine: EngineClient, onLabelsChanged: () => void): void {
  const self = { id: browser.runtime.id, baseUrl: browser.runtime.getURL('') };
  browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
    if (isAddressedToEngine(message)) return undefined; // for the offscreen document, not us
    const parsed = parseMessage(BackgroundRequestSchema, message);
    if (!parsed.ok) return Promise.resolve(rejection(`Malformed request: ${parsed.reason}`));
    const request = parsed.value;
    const fromPage = isOwnContentScript(sender, self);
    const allowed = isOwnExtensionPage(sender, self) || (CONTENT_SCRIPT_REQUESTS.includes(request.type) && fromPage);
    if (!allowed) return Promise.resolve(rejection(`"${request.type}" is not allowed from this sender.`));
    if (fromPage && 'source' in request && !mayAskToRead(sender, request.source.url)) {
      return Promise.resolve(rejection('Spotter reads local files only for pages that are local files themselves.'));
    }
    return engine.request(request).then(
      (response) => {
        if (response.ok && LABEL_CHANGING_REQUESTS.includes(request.type)) onLabelsChanged();
        return response;
      },
      // The engine client answers with a protocol response; if reaching it fails, say so in one.
      (error: unknown) => ({ ok: false as const, error: toErrorInfo(error) }),
    );
  });
}
