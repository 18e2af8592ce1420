import browser, { type Runtime } from 'webextension-polyfill';
import { SpotterError, toErrorInfo } from '../shared/errors';
import { BackgroundRequestSchema, isAddressedToEngine, LABEL_CHANGING_REQUESTS, MODEL_CHANGING_REQUESTS, parseMessage, type BackgroundRequest, type ChangeNotice, type RequestType } from '../shared/protocol';
import { rejection, respond, type Response } from '../shared/respond';
import { isOwnContentScript, isOwnExtensionPage } from '../shared/senders';
import { readListedImage, readScreen } from './screen-capture';
import { takeTicket } from './ticket-store';
import type { EngineClient } from './engine-client';

/** What a web page's content script may ask for; everything else is for Spotter's own pages. */
const CONTENT_SCRIPT_REQUESTS: readonly RequestType[] = ['classify-image', 'add-example'];

/** Validates every request to the background, checks who sent it, and hands it to the engine. */
export function listenForRequests(engine: EngineClient, onChanged: (what: ChangeNotice['what']) => void): void {
  const self = { id: browser.runtime.id, baseUrl: browser.runtime.getURL('') };
  browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
    if (isAddressedToEngine(message)) return undefined; // for the offscreen document, not us
    const parsed = parseMessage(BackgroundRequestSchema, message);
    if (!parsed.ok) return Promise.resolve(rejection(`Malformed request: ${parsed.reason}`));
    const fromPage = isOwnContentScript(sender, self);
    const allowed = isOwnExtensionPage(sender, self) || (CONTENT_SCRIPT_REQUESTS.includes(parsed.value.type) && fromPage);
    if (!allowed) return Promise.resolve(rejection(`"${parsed.value.type}" is not allowed from this sender.`));
    // Answered here: the background alone may capture the screen (only Spotter's own pages get this far).
    const asked = parsed.value;
    if (asked.type === 'read-from-screen') return respond(() => readListedImage(asked.tabId, asked.imageId));
    const request = fromPage ? stampedBySender(parsed.value, sender) : parsed.value;
    const permitted = fromPage ? allowedByMenuClick(request, sender) : Promise.resolve(true);
    const refused = rejection('Spotter acts on a page only right after you choose it in the right-click menu. Right-click the image again.');
    return permitted.then(async (ok) => (ok ? engine.request(fromPage ? await withScreenRead(request, sender) : request) : refused)).then(
      (response) => {
        if (response.ok && LABEL_CHANGING_REQUESTS.includes(request.type)) onChanged('labels');
        if (response.ok && request.type === 'train') onChanged('training');
        if (response.ok && MODEL_CHANGING_REQUESTS.includes(request.type)) onChanged('model');
        return fromPage ? withoutThumbnail(response) : response;
      },
      // The engine client answers with a protocol response; if reaching it fails, say so in one.
      (error: unknown) => ({ ok: false as const, error: toErrorInfo(error) }),
    );
  });
}

/**
 * A content script's screen area becomes the picture the screen shows there (screen-capture.ts),
 * read from the sender's own tab with Spotter's overlays hidden in all its frames.
 */
async function withScreenRead(request: BackgroundRequest, sender: Runtime.MessageSender): Promise<BackgroundRequest> {
  if (!('source' in request) || !('screen' in request.source)) return request;
  const tab = sender.tab;
  if (tab?.id === undefined) throw new SpotterError('bad-message', 'Only a page can ask Spotter to read its screen.');
  return { ...request, source: await readScreen(request.source, tab.id, sender.frameId ?? 0) };
}

/** Uses up the ticket the user's menu click issued for this tab and frame (command-tickets.ts). */
function allowedByMenuClick(request: BackgroundRequest, sender: Runtime.MessageSender): Promise<boolean> {
  if (request.type !== 'classify-image' && request.type !== 'add-example') return Promise.resolve(false);
  const tabId = sender.tab?.id;
  if (tabId === undefined) return Promise.resolve(false);
  return takeTicket({ tabId, frameId: sender.frameId ?? 0, request: request.type, ...(request.type === 'add-example' ? { label: request.label } : {}) });
}

/**
 * A content script's word on where it runs is not trusted: the page address that decides cookies
 * and file: access, and the one stored with an example, come from what the browser stamped.
 * That is the frame's own address, not the tab's: another site's frame (an ad) on a page must
 * not get Spotter to fetch that page's site with the user's cookies, nor an http frame in a
 * file: page read local files.
 */
function stampedBySender(request: BackgroundRequest, sender: Runtime.MessageSender): BackgroundRequest {
  if (!('source' in request)) return request;
  const frameUrl = sender.url ?? '';
  const source = { ...request.source, pageUrl: frameUrl };
  return request.type === 'add-example' ? { ...request, source, pageUrl: frameUrl } : { ...request, source };
}

/**
 * The overlay shows labels, not the thumbnail: keeping it out of a page's process means a
 * compromised page cannot use Spotter to see pictures from other sites.
 */
function withoutThumbnail<T>(response: Response<T>): Response<T> {
  if (!response.ok || typeof response.result !== 'object' || response.result === null || !('thumbnail' in response.result)) return response;
  return { ...response, result: { ...response.result, thumbnail: '' } };
}
