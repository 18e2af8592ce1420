/**
 * Where a picture in a frame inside another site's page shows on the screen, for reading a
 * canvas or video there from the screen. The frame's script cannot see where its frame sits (the
 * parent's frame element is out of its reach), so the area travels up by postMessage: Spotter's
 * script in each frame on the way moves it by where the frame element that posted sits (found by
 * the posting window, which a page cannot fake) and cuts it to that element's content box, and the
 * top frame keeps it for the background.
 *
 * The background first arms the read's one-time token in every frame of the tab
 * (shared/frame-tokens.ts), then has the frame post it. Only an armed token is relayed, once, so
 * a page cannot use the relay to learn that Spotter is installed or to make it busy. A page on the
 * way sees the token and could post its own area first; being cut to its own frame's box, that
 * can only point Spotter at a part of that frame, which the page draws anyway.
 */
import { takeArmedToken } from '../shared/frame-tokens';
import type { ScreenArea } from '../shared/protocol';
import { contentBoxOf, type FrameArea } from './frame-box';
import { shadowRootOf } from './shadow-roots';

const MESSAGE_KEY = 'frameArea';
const TOKEN = /^[a-z0-9]{24}$/;
/** Placements nobody asked for yet are dropped after this long; a request waits this long for its placement. */
const KEEP_MS = 10_000;
const WAIT_MS = 3_000;

interface AreaMessage {
  [MESSAGE_KEY]: string;
  area: FrameArea;
}

const arrived = new Map<string, ScreenArea>();
const waiting = new Map<string, (placement: ScreenArea) => void>();

/** In the frame that asked: sends its picture's area (in its own viewport) up to its parent. */
export function postFrameArea(token: string, area: FrameArea): void {
  const message: AreaMessage = { [MESSAGE_KEY]: token, area };
  window.parent.postMessage(message, '*');
}

/** In every frame: moves armed areas from child frames into this frame's viewport and passes them up; the top frame keeps them. */
export function relayFrameAreas(): void {
  addEventListener('message', (event: MessageEvent) => {
    const message = areaMessageIn(event.data);
    if (!message || !event.source || !takeArmedToken(message[MESSAGE_KEY])) return;
    const frame = frameElementOf(event.source as Window);
    if (!frame) return;
    const frameBox = contentBoxOf(frame);
    const area = clipped(moved(message.area, frameBox), frameBox);
    const token = message[MESSAGE_KEY];
    if (window !== window.top) return postFrameArea(token, area);
    const placement = { ...area, viewportWidth: innerWidth };
    const resolve = waiting.get(token);
    if (resolve) return resolve(placement);
    arrived.set(token, placement);
    setTimeout(() => arrived.delete(token), KEEP_MS);
  });
}

/** In the top frame: the area, in its viewport, that the frame which posted `token` gave; null if it does not arrive in time. */
export function placementOf(token: string): Promise<ScreenArea | null> {
  const placement = arrived.get(token);
  if (placement) {
    arrived.delete(token);
    return Promise.resolve(placement);
  }
  if (waiting.has(token)) return Promise.resolve(null); // asked twice: the first asker gets it
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiting.delete(token);
      resolve(null);
    }, WAIT_MS);
    waiting.set(token, (arrival) => {
      clearTimeout(timer);
      waiting.delete(token);
      resolve(arrival);
    });
  });
}

function areaMessageIn(data: unknown): AreaMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const { [MESSAGE_KEY]: token, area } = data as Partial<AreaMessage>;
  if (typeof token !== 'string' || !TOKEN.test(token) || typeof area !== 'object' || area === null) return null;
  const { left, top, width, height } = area;
  if (![left, top, width, height].every(Number.isFinite) || width < 0 || height < 0) return null;
  return { [MESSAGE_KEY]: token, area: { left, top, width, height } };
}

const moved = (area: FrameArea, by: FrameArea): FrameArea => ({ ...area, left: area.left + by.left, top: area.top + by.top });

/** The part of `area` inside `box` (0 wide or high where none is). */
function clipped(area: FrameArea, box: FrameArea): FrameArea {
  const left = Math.max(area.left, box.left);
  const top = Math.max(area.top, box.top);
  const right = Math.min(area.left + area.width, box.left + box.width);
  const bottom = Math.min(area.top + area.height, box.top + box.height);
  return { left, top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
}

/** The frame element of this document (shadow roots included) whose window is `source`. */
function frameElementOf(source: Window): HTMLIFrameElement | HTMLFrameElement | HTMLObjectElement | null {
  const search = (root: Document | ShadowRoot): HTMLIFrameElement | HTMLFrameElement | HTMLObjectElement | null => {
    for (const element of root.querySelectorAll('*')) {
      const name = element.localName;
      if ((name === 'iframe' || name === 'frame' || name === 'object') && (element as HTMLIFrameElement).contentWindow === source) return element as HTMLIFrameElement;
      const shadow = shadowRootOf(element);
      const inner = shadow && search(shadow);
      if (inner) return inner;
    }
    return null;
  };
  return search(document);
}
