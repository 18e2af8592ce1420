/**
 * Where a frame inside another site's page shows on the screen, for reading a canvas or video
 * there from the screen. The frame's script cannot see that (the parent's frame element is out of
 * its reach), so it posts a one-time token to its parent window. Spotter's script in each frame on
 * the way adds where the frame element the message came from sits (found by the posting window,
 * which a page cannot fake) and passes it up; the top frame keeps the sum until the background,
 * given the token by the frame, asks for it. A page on the way sees the token and could post a
 * wrong position first: Spotter would then read the wrong part of the screen, whose labels only
 * the user sees (the overlay's shadow root is closed).
 */
import type { ScreenArea } from '../shared/protocol';
import { shadowRootOf } from './shadow-roots';

export type FramePlacement = Pick<ScreenArea, 'left' | 'top' | 'viewportWidth'>;

const MESSAGE_KEY = 'spotterFramePlacement';
const TOKEN = /^[a-z0-9]{24}$/;
/** How long the top frame keeps a placement nobody asked for yet, and how long a request waits for one. */
const KEEP_MS = 10_000;
const WAIT_MS = 3_000;

interface PlacementMessage {
  [MESSAGE_KEY]: string;
  left: number;
  top: number;
}

const arrived = new Map<string, FramePlacement>();
const waiting = new Map<string, (placement: FramePlacement) => void>();

/** In a frame that cannot place itself: sends its position up and returns the token that names it. */
export function announceFrame(): string {
  const token = Array.from(crypto.getRandomValues(new Uint8Array(24)), (byte) => (byte % 36).toString(36)).join('');
  postUp(token, 0, 0);
  return token;
}

/** In every frame: passes placements up from child frames; the top frame keeps them. */
export function relayFramePlacements(): void {
  addEventListener('message', (event: MessageEvent) => {
    const message = placementIn(event.data);
    if (!message || !event.source) return;
    const frame = frameElementOf(event.source as Window);
    if (!frame) return;
    const box = frame.getBoundingClientRect();
    const style = getComputedStyle(frame);
    // The frame's content starts inside its border and padding.
    const left = message.left + box.left + frame.clientLeft + parseFloat(style.paddingLeft);
    const top = message.top + box.top + frame.clientTop + parseFloat(style.paddingTop);
    const token = message[MESSAGE_KEY];
    if (window !== window.top) return postUp(token, left, top);
    const placement = { left, top, viewportWidth: innerWidth };
    const resolve = waiting.get(token);
    if (resolve) return resolve(placement);
    arrived.set(token, placement);
    setTimeout(() => arrived.delete(token), KEEP_MS);
  });
}

/** In the top frame: where the frame that announced `token` sits in its viewport; null if that never arrives. */
export function placementOf(token: string): Promise<FramePlacement | null> {
  const placement = arrived.get(token);
  if (placement) {
    arrived.delete(token);
    return Promise.resolve(placement);
  }
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

function postUp(token: string, left: number, top: number): void {
  const message: PlacementMessage = { [MESSAGE_KEY]: token, left, top };
  window.parent.postMessage(message, '*');
}

function placementIn(data: unknown): PlacementMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const { [MESSAGE_KEY]: token, left, top } = data as Partial<PlacementMessage>;
  if (typeof token !== 'string' || !TOKEN.test(token)) return null;
  if (!Number.isFinite(left) || !Number.isFinite(top)) return null;
  return { [MESSAGE_KEY]: token, left: left!, top: top! };
}

/** The frame element of this document (shadow roots included) whose window is `source`. */
function frameElementOf(source: Window): HTMLIFrameElement | HTMLFrameElement | null {
  const search = (root: Document | ShadowRoot): HTMLIFrameElement | HTMLFrameElement | null => {
    for (const element of root.querySelectorAll('*')) {
      if ((element.localName === 'iframe' || element.localName === 'frame') && (element as HTMLIFrameElement).contentWindow === source) return element as HTMLIFrameElement;
      const shadow = shadowRootOf(element);
      const inner = shadow && search(shadow);
      if (inner) return inner;
    }
    return null;
  };
  return search(document);
}
