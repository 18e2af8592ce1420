/**
 * The content script: remembers where the user right-clicked, and on "Classify with Spotter"
 * finds that image, asks the background to classify it and shows the overlay.
 */
import browser, { type Runtime } from 'webextension-polyfill';
import * as v from 'valibot';
import { SpotterError, toErrorInfo } from '../shared/errors';
import { ClassifyResponseSchema, ContentCommandSchema, parseMessage, type ContentCommand } from '../shared/protocol';
import { isFromExtensionBackground } from '../shared/senders';
import { findImageTarget, type ClickContext } from './find-image';
import { ImageOverlay } from './overlay';
import { toImageSource } from './read-pixels';

let lastClick: Pick<ClickContext, 'point' | 'element'> = { point: null, element: null };
const overlays = new Map<Element, ImageOverlay>();

addEventListener(
  'contextmenu',
  (event) => {
    const inner = event.composedPath()[0];
    lastClick = { point: { x: event.clientX, y: event.clientY }, element: inner instanceof Element ? inner : null };
  },
  { capture: true, passive: true },
);

addEventListener(
  'keydown',
  (event) => {
    if (event.key !== 'Escape' || overlays.size === 0) return;
    [...overlays.values()].at(-1)?.close();
  },
  { capture: true },
);

browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
  if (!isFromExtensionBackground(sender, { id: browser.runtime.id })) return undefined;
  const parsed = parseMessage(ContentCommandSchema, message);
  if (!parsed.ok) return Promise.reject(new Error(`Spotter: rejected command (${parsed.reason})`));
  void classifyTarget(parsed.value);
  // Acknowledge at once; the overlay shows the outcome.
  return Promise.resolve(true);
});

async function classifyTarget(command: ContentCommand): Promise<void> {
  const target = findImageTarget({ ...lastClick, srcUrl: command.srcUrl, mediaType: command.mediaType });
  if (!target) {
    const anchor = lastClick.element ?? document.body;
    openOverlay(anchor).show({ phase: 'error', message: new SpotterError('no-image', 'No image here: Spotter looks for pictures, videos, canvases and CSS backgrounds.').message });
    return;
  }
  const overlay = openOverlay(target.element);
  try {
    const source = await toImageSource(target);
    const reply: unknown = await browser.runtime.sendMessage({ type: 'classify-image', source });
    const response = v.parse(ClassifyResponseSchema, reply);
    overlay.show(response.ok ? { phase: 'done', result: response.result } : { phase: 'error', message: response.error.message });
  } catch (error) {
    overlay.show({ phase: 'error', message: toErrorInfo(error).message });
  }
}

function openOverlay(element: Element): ImageOverlay {
  overlays.get(element)?.close();
  const overlay = new ImageOverlay(element, (closed) => {
    if (overlays.get(closed.target) === closed) overlays.delete(closed.target);
  });
  overlays.set(element, overlay);
  return overlay;
}
