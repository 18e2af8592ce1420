/**
 * Where a picture in a frame inside another site's page shows on the screen, for reading a
 * canvas or video there from the screen. The frame's script cannot see where its frame sits (the
 * parent's frame element is out of its reach), so the area travels up by postMessage: Spotter's
 * script in each frame on the way places it by where the frame element that posted sits (found by
 * the posting window, which a page cannot fake), scaled as that element is drawn (the posting
 * frame gives its viewport's size for this), and cuts it to that element's content box, and the
 * top frame keeps it for the background. A frame on the way that is rotated, skewed or mirrored
 * cannot be placed by a box: the area goes on up as null, and the top frame says why.
 *
 * The background first arms the read's one-time token in every frame of the tab
 * (shared/frame-tokens.ts), then has the frame post it. Only an armed token is relayed, once, so
 * a page cannot use the relay to learn that Spotter is installed or to make it busy. A page on the
 * way sees the token and could post its own area first; being cut to its own frame's box, that
 * can only point Spotter at a part of that frame, which the page draws anyway.
 */
import { takeArmedToken } from '../shared/frame-tokens';
import type { ScreenArea } from '../shared/protocol';
import { frameBoxOf, placedIn, TURNED_FRAME, type FrameArea } from './frame-box';
import { shadowRootOf } from './shadow-roots';

const MESSAGE_KEY = 'frameArea';
const TOKEN = /^[a-z0-9]{24}$/;
/** Placements nobody asked for yet are dropped after this long; a request waits this long for its placement. */
const KEEP_MS = 10_000;
const WAIT_MS = 3_000;

interface AreaMessage {
  [MESSAGE_KEY]: string;
  /** In the posting frame's viewport; null: a frame below is rotated, skewed or mirrored. */
  area: FrameArea | null;
  /** The posting frame's viewport size: its frame element's content box as laid out, which tells how much it is scaled. */
  viewport: { width: number; height: number };
}

/** The area in the top frame's viewport, or why it has none. */
export type Placement = ScreenArea | { unplaceable: string };

const arrived = new Map<string, Placement>();
const waiting = new Map<string, (placement: Placement) => void>();

/** In the frame that asked, and each frame on the way: sends the picture's area (in this frame's viewport) up to its parent. */
export function postFrameArea(token: string, area: FrameArea | null): void {
  const message: AreaMessage = { [MESSAGE_KEY]: token, area, viewport: { width: innerWidth, height: innerHeight } };
  window.parent.postMessage(message, '*');
}

/** In every frame: places armed areas from child frames in this frame's viewport (moved, scaled, cut to the frame) and passes them up; the top frame keeps them. */
export function relayFrameAreas(): void {
  addEventListener('message', (event: MessageEvent) => {
    const message = areaMessageIn(event.data);
    if (!message || !event.source || !takeArmedToken(message[MESSAGE_KEY])) return;
    const frame = frameElementOf(event.source as Window);
    if (!frame) return;
    const frameBox = frameBoxOf(frame, message.viewport);
    const area = message.area && frameBox && placedIn(message.area, frameBox);
    const token = message[MESSAGE_KEY];
    if (window !== window.top) return postFrameArea(token, area);
    const placement = area ? { ...area, viewportWidth: innerWidth } : { unplaceable: TURNED_FRAME };
    const resolve = waiting.get(token);
    if (resolve) return resolve(placement);
    arrived.set(token, placement);
    setTimeout(() => arrived.delete(token), KEEP_MS);
  });
}

/** In the top frame: the area, in its viewport, that the frame which posted `token` gave; null if it does not arrive in time. */
export function placementOf(token: string): Promise<Placement | null> {
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
  const { [MESSAGE_KEY]: token, area, viewport } = data as Partial<AreaMessage>;
  if (typeof token !== 'string' || !TOKEN.test(token) || typeof area !== 'object' || typeof viewport !== 'object' || viewport === null) return null;
  const size = { width: viewport.width, height: viewport.height };
  if (!isSize(size.width) || !isSize(size.height)) return null;
  if (area === null) return { [MESSAGE_KEY]: token, area: null, viewport: size };
  const { left, top, width, height } = area;
  if (!Number.isFinite(left) || !Number.isFinite(top) || !isSize(width) || !isSize(height)) return null;
  return { [MESSAGE_KEY]: token, area: { left, top, width, height }, viewport: size };
}

const isSize = (value: unknown): value is number => Number.isFinite(value) && (value as number) >= 0;

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
