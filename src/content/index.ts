/**
 * The content script: remembers where the user right-clicked; classifies or labels that image
 * on the menu's command; lists the page's images for the popup and highlights one on request.
 */
import browser, { type Runtime } from 'webextension-polyfill';
import { ask } from '../shared/client';
import { SpotterError, toErrorInfo } from '../shared/errors';
import { newFrameToken } from '../shared/frame-tokens';
import { ContentCommandSchema, parseMessage, type ContentCommand, type ImageSource, type ScreenArea, type ScreenSource } from '../shared/protocol';
import { isOwnExtensionPage } from '../shared/senders';
import { PageImageRegistry } from './collect-images';
import { findImageTarget, replacementOf, type ClickContext, type ImageTarget } from './find-image';
import { placementOf, postFrameArea, relayFrameAreas } from './frame-placement';
import { claimFrame } from './one-copy';
import { ImageOverlay } from './overlay';
import { screenAreaOf, toImageSource, UncopyablePixels } from './read-pixels';

let lastClick: Pick<ClickContext, 'point' | 'element'> = { point: null, element: null };
/** Open overlays, oldest first. Each follows its picture, which the page may replace (overlay.target). */
const overlays = new Set<ImageOverlay>();
const pageImages = new PageImageRegistry();
const self = { id: browser.runtime.id, baseUrl: browser.runtime.getURL('') };

if (claimFrame()) listen();

function listen(): void {
  addEventListener(
    'contextmenu',
    (event) => {
      // A page can dispatch its own contextmenu events: only the user's right-click counts.
      if (!event.isTrusted) return;
      const inner = event.composedPath()[0];
      lastClick = { point: { x: event.clientX, y: event.clientY }, element: inner instanceof Element ? inner : null };
    },
    { capture: true, passive: true },
  );

  addEventListener(
    'keydown',
    (event) => {
      // A page can dispatch its own Escape keys: only the user's close the overlay, as for right-clicks.
      if (!event.isTrusted || event.key !== 'Escape' || overlays.size === 0) return;
      [...overlays].at(-1)?.close();
    },
    { capture: true },
  );

  relayFrameAreas();

  browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
    if (!isOwnExtensionPage(sender, self)) return undefined;
    const parsed = parseMessage(ContentCommandSchema, message);
    if (!parsed.ok) return Promise.reject(new Error(`Spotter: rejected command (${parsed.reason})`));
    return handle(parsed.value);
  });
}

async function handle(command: ContentCommand): Promise<unknown> {
  switch (command.type) {
    case 'classify-target':
      void classifyTarget(command);
      return true; // acknowledged at once; the overlay shows the outcome
    case 'label-target':
      void labelTarget(command);
      return true;
    case 'collect-images':
      return { document: pageImages.documentKey, images: pageImages.collect() };
    case 'resolve-image':
      // A canvas or video the page lets no one copy: the popup may have it read from the screen instead.
      return toImageSource(registered(command.imageId)).catch((error: unknown) => {
        if (error instanceof UncopyablePixels) return { onScreenOnly: error.message };
        throw error;
      });
    case 'screen-area':
      return screenAreaForPopup(registered(command.imageId));
    case 'describe-overlays':
      return [...overlays].map((overlay) => overlay.describe());
    case 'hide-for-screen-read':
      screenReads.start(command.read);
      await afterNextPaint();
      return true;
    case 'screen-read':
      screenReads.captured(command.read);
      return true;
    case 'post-frame-area':
      postFrameArea(command.token, command.area);
      return true;
    case 'frame-placement':
      return placementOf(command.token);
    case 'highlight-image': {
      const { element } = registered(command.imageId);
      element.scrollIntoView({ block: 'center', inline: 'center' });
      openOverlay(element).show({ phase: 'highlight' });
      return true;
    }
  }
}

function registered(imageId: string): ImageTarget {
  const target = pageImages.get(imageId);
  if (!target || !target.element.isConnected) throw new SpotterError('no-image', 'That image is no longer on the page. Refresh the list.');
  return target;
}

function clickedTarget(command: { srcUrl?: string; mediaType?: string }): ImageTarget | null {
  const target = findImageTarget({ ...lastClick, srcUrl: command.srcUrl, mediaType: command.mediaType });
  if (!target) {
    openOverlay(lastClick.element ?? document.body).show({
      phase: 'error',
      // No right-click seen: this script was injected after it (the tab was open before Spotter was installed or updated).
      message: lastClick.point
        ? 'No image here: Spotter looks for pictures, videos, canvases and CSS backgrounds.'
        : 'Spotter has just started in this tab and did not see that right-click. Right-click the image again.',
    });
  }
  return target;
}

async function classifyTarget(command: Extract<ContentCommand, { type: 'classify-target' }>): Promise<void> {
  const target = clickedTarget(command);
  if (!target) return;
  const overlay = openOverlay(target.element);
  try {
    const result = await withSourceOf(target, (source) => ask({ type: 'classify-image', source }));
    overlay.show({ phase: 'done', result });
  } catch (error) {
    overlay.show({ phase: 'error', message: toErrorInfo(error).message });
  }
}

async function labelTarget(command: Extract<ContentCommand, { type: 'label-target' }>): Promise<void> {
  const target = clickedTarget(command);
  if (!target) return;
  const label = command.label ?? askForLabel(target);
  if (!label) return; // the user cancelled, or was told why they could not type one
  const overlay = openOverlay(target.element);
  try {
    const example = await withSourceOf(target, (source) => ask({ type: 'add-example', source, label, pageUrl: location.href }));
    overlay.show({ phase: 'saved', label: example.label });
  } catch (error) {
    const { code, message } = toErrorInfo(error);
    // The label may have been typed into a prompt that is gone now: say which one was not saved.
    overlay.show({ phase: 'error', message: code === 'storage-full' ? `This image was not labelled "${label}". ${message}` : message });
  }
}

/** Quicker than anyone can cancel a dialog: a prompt() answered this fast was never shown. */
const PROMPT_REFUSED_MS = 50;

/**
 * "New label…": the label typed into the page's own prompt; null when the user cancels. A frame
 * that may not open dialogs (sandboxed without allow-modals) answers null at once and shows
 * nothing: the user is told so rather than left wondering.
 */
function askForLabel(target: ImageTarget): string | null {
  const refused = () => {
    openOverlay(target.element).show({
      phase: 'error',
      message: 'This page does not let Spotter ask for a new label here. Label this image in Spotter\'s popup, or choose one of your labels under "Label as".',
    });
    return null;
  };
  // Known beforehand where the frame element can be read (a same-origin parent): no prompt() call, which the browser logs as an error.
  if (sandboxedWithoutModals()) return refused();
  const asked = performance.now();
  const typed = prompt('Spotter: label this image as…');
  if (typed === null && performance.now() - asked < PROMPT_REFUSED_MS) return refused();
  return typed?.trim() || null;
}

function sandboxedWithoutModals(): boolean {
  try {
    const sandbox = window.frameElement?.getAttribute('sandbox');
    return typeof sandbox === 'string' && !sandbox.split(/\s+/).includes('allow-modals');
  } catch {
    return false; // another site's frame element: only the prompt can tell
  }
}

/**
 * Sends a request about the clicked image. A canvas or video whose pixels the page lets no one
 * copy goes as its area of the screen, which the background reads, with Spotter's overlays hidden
 * in every frame of the tab ('hide-for-screen-read').
 */
async function withSourceOf<T>(target: ImageTarget, send: (source: ImageSource | ScreenSource) => Promise<T>): Promise<T> {
  let source: ImageSource | ScreenSource;
  try {
    source = await toImageSource(target);
  } catch (error) {
    const screen = error instanceof UncopyablePixels ? screenSourceOf(target.element) : null;
    if (!screen) throw error;
    source = screen;
  }
  return send(source);
}

/**
 * Where the element shows on the screen. A frame inside another site's page cannot see where it
 * sits: it gives its own viewport's box and a token, under which the background has that box
 * placed by the frames above (frame-placement.ts).
 */
function screenSourceOf(element: Element): ScreenSource | null {
  const area = screenAreaOf(element);
  if (area) return { screen: area };
  if (window === window.top) return null;
  const { left, top, width, height } = element.getBoundingClientRect();
  return { screen: { left, top, width, height, viewportWidth: innerWidth }, frameToken: newFrameToken() };
}

/**
 * Spotter's overlays stay hidden while any screen read of the tab waits for its capture, each read
 * named by the id the background gave it: the end of one read must not bring them back into the
 * picture of another still waiting its turn.
 */
class PendingScreenReads {
  /** Each waiting read, with the timer that ends it if 'screen-read' never comes (the background stopped, or lost this frame). */
  private readonly waiting = new Map<string, ReturnType<typeof setTimeout>>();

  get any(): boolean {
    return this.waiting.size > 0;
  }

  start(read: string): void {
    this.waiting.set(read, setTimeout(() => this.captured(read), SCREEN_READ_LIMIT_MS));
    this.show();
  }

  captured(read: string): void {
    clearTimeout(this.waiting.get(read));
    this.waiting.delete(read);
    this.show();
  }

  private show(): void {
    for (const overlay of overlays) overlay.setHidden(this.any);
  }
}
const screenReads = new PendingScreenReads();

/** How long overlays may stay hidden for a read if the background never says it is done: never for good. */
const SCREEN_READ_LIMIT_MS = 10_000;

/**
 * Where a listed picture is on the screen, for the popup, which has the background read it there.
 * Only what the user can see now: the page is not scrolled under the popup. (The popup asks the
 * top frame, whose viewport screen areas are placed in, same-origin frames' pictures included.)
 */
function screenAreaForPopup(target: ImageTarget): ScreenArea {
  const area = screenAreaOf(target.element);
  const onScreen = area && area.width > 0 && area.height > 0 && area.left < area.viewportWidth && area.left + area.width > 0 && area.top < innerHeight && area.top + area.height > 0;
  if (!area || !onScreen) throw new SpotterError('no-image', 'Spotter reads this one from the screen: scroll it into view, or right-click it on the page.');
  return area;
}

/** Resolves once a frame without the hidden overlays has been painted (or soon, in a tab that paints none). */
const afterNextPaint = () =>
  new Promise<void>((resolve) => {
    requestAnimationFrame(() => requestAnimationFrame(() => resolve()));
    setTimeout(resolve, 200);
  });

function openOverlay(element: Element): ImageOverlay {
  for (const open of overlays) if (open.target === element) open.close();
  // A page that re-renders (img.replaceWith(img.cloneNode(true))) must not lose the answer: the overlay follows the copy.
  const overlay = new ImageOverlay(element, (closed) => overlays.delete(closed), replacementOf);
  overlays.add(overlay);
  if (screenReads.any) overlay.setHidden(true);
  return overlay;
}
