/**
 * Finding what the user right-clicked. The browser tells us the URL for <img> and <video>;
 * for canvases, inline SVG drawings and CSS backgrounds (also on ::before / ::after) we look under
 * the cursor ourselves.
 */
import { shadowRootOf } from './shadow-roots';

export type ImageTarget =
  /** element: the <img>, or the element that was hit where the <img> cannot be reached. */
  | { kind: 'img'; element: Element; url: string }
  | { kind: 'video'; element: HTMLVideoElement }
  | { kind: 'canvas'; element: HTMLCanvasElement }
  /** An inline <svg> drawing (its outermost <svg>). */
  | { kind: 'svg'; element: SVGSVGElement }
  | { kind: 'background'; element: Element; url: string };

/** The first url(...) of a computed background-image value, or null ("none", gradients only). */
export function backgroundImageUrl(value: string): string | null {
  const match = /url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)\s]*))\s*\)/.exec(value);
  const url = match?.[1] ?? match?.[2] ?? match?.[3];
  return url ? url.replace(/\\(.)/g, '$1') : null;
}

export interface ClickContext {
  /** Where the right-click happened, in viewport coordinates; null if we did not see it. */
  point: { x: number; y: number } | null;
  /** The element the contextmenu event was dispatched to (inside open shadow roots, the innermost). */
  element: Element | null;
  srcUrl?: string;
  mediaType?: string;
}

export function findImageTarget(context: ClickContext, doc: Document = document): ImageTarget | null {
  const candidates = elementsAt(context, doc);
  const wantsMedia = context.mediaType === 'image' || context.mediaType === 'video';
  if (wantsMedia && context.srcUrl) {
    const bySrc = (el: Element) => (isImg(el) || isVideo(el)) && (el.currentSrc === context.srcUrl || el.src === context.srcUrl);
    const element = candidates.find(bySrc) ?? [...doc.querySelectorAll('img, video')].find(bySrc);
    if (element && isImg(element)) return { kind: 'img', element, url: context.srcUrl };
    if (element && isVideo(element)) return { kind: 'video', element };
    // An <img> we cannot reach (a shadow root the browser would not open to us), but the browser
    // said what it shows: read that URL and draw the overlay over the element that was hit.
    const host = candidates[0];
    if (!element && context.mediaType === 'image' && host && !isImg(host)) return { kind: 'img', element: host, url: context.srcUrl };
  }
  let icon: ImageTarget | null = null;
  for (const element of candidates) {
    const target = asImageTarget(element);
    if (!target) continue;
    // A small inline icon drawn over a picture (a play button, a heart) stands for that picture; alone, it is the picture.
    if (isIconDrawing(target)) {
      icon ??= target;
      continue;
    }
    return target;
  }
  return icon ?? (context.point ? mediaHitTestingSkips(context.point, doc) : null);
}

/**
 * A picture under the cursor that hit testing skips: `pointer-events: none`, which some galleries
 * set on their photos so that clicks reach the link around them (the browser's menu then sees no
 * image either). The last visible one in document order, as that one is painted on top.
 */
function mediaHitTestingSkips(point: { x: number; y: number }, doc: Document): ImageTarget | null {
  const view = doc.defaultView ?? window;
  let found: ImageTarget | null = null;
  for (const element of doc.querySelectorAll('img, video, canvas, svg')) {
    const box = element.getBoundingClientRect();
    if (point.x < box.left || point.x >= box.right || point.y < box.top || point.y >= box.bottom) continue;
    // Anything else there was hit, so elementsAt has seen it already.
    if (view.getComputedStyle(element).pointerEvents !== 'none') continue;
    if (!element.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    const target = asImageTarget(element);
    if (target && !isIconDrawing(target)) found = target;
  }
  return found;
}

/** Inline drawings smaller than this on a side are icons. */
const ICON_SIDE = 48;
const isIconDrawing = (target: ImageTarget) => {
  if (target.kind !== 'svg') return false;
  const { width, height } = target.element.getBoundingClientRect();
  return Math.min(width, height) < ICON_SIDE;
};

// Tag checks, not instanceof: elements of same-origin iframes come from another window's classes.
const isImg = (el: Element): el is HTMLImageElement => el.localName === 'img';
const isVideo = (el: Element): el is HTMLVideoElement => el.localName === 'video';
const isCanvas = (el: Element): el is HTMLCanvasElement => el.localName === 'canvas';
/** The outermost <svg> of an inline drawing (a nested <svg> is part of it). */
const isDrawing = (el: Element): el is SVGSVGElement => el.localName === 'svg' && el.namespaceURI === 'http://www.w3.org/2000/svg' && !(el as SVGSVGElement).ownerSVGElement;

/** withPseudoElements: also look at ::before / ::after (two more style lookups). */
export function asImageTarget(element: Element, withPseudoElements = true): ImageTarget | null {
  if (isImg(element)) {
    const url = element.currentSrc || element.src;
    return url ? { kind: 'img', element, url } : null;
  }
  if (isVideo(element)) return { kind: 'video', element };
  if (isCanvas(element)) return { kind: 'canvas', element };
  if (isDrawing(element)) return { kind: 'svg', element };
  const url = cssPictureUrl(element, withPseudoElements);
  return url ? { kind: 'background', element, url } : null;
}

/** Pseudo-element boxes smaller than this on a side are icons and bullets, not pictures. */
const MIN_PSEUDO_SIDE = 48;

/**
 * The picture CSS draws on the element: its own background, else a ::before / ::after box with a
 * background (how many sites draw hero and card images, so that no <img> is under the cursor).
 */
function cssPictureUrl(element: Element, withPseudoElements: boolean): string | null {
  const view = element.ownerDocument.defaultView ?? window;
  const own = backgroundImageUrl(view.getComputedStyle(element).backgroundImage);
  if (own || !withPseudoElements) return own;
  for (const pseudo of ['::before', '::after']) {
    const style = view.getComputedStyle(element, pseudo);
    // content 'none'/'normal': the pseudo-element has no box, whatever its background says.
    if (style.content === 'none' || style.content === 'normal') continue;
    const url = backgroundImageUrl(style.backgroundImage);
    // A box the browser lays out has its width and height resolved to px; an inline one says 'auto'.
    if (url && Math.min(parseFloat(style.width), parseFloat(style.height)) >= MIN_PSEUDO_SIDE) return url;
  }
  return null;
}

/**
 * Everything under the click point, topmost first, with what shadow roots (closed ones too) show
 * there placed before their host; then the clicked element's ancestors.
 */
function elementsAt(context: ClickContext, doc: Document): Element[] {
  const seen = new Set<Element>();
  const ordered: Element[] = [];
  const add = (el: Element | null) => {
    if (el && !seen.has(el)) {
      seen.add(el);
      ordered.push(el);
    }
  };
  const addAt = (root: Document | ShadowRoot, x: number, y: number) => {
    for (const el of root.elementsFromPoint(x, y)) {
      const inner = seen.has(el) ? null : shadowRootOf(el);
      if (inner && inner !== root) addAt(inner, x, y);
      add(el);
    }
  };
  if (context.point) addAt(doc, context.point.x, context.point.y);
  for (let el = context.element; el; el = el.parentElement) add(el);
  return ordered.filter((el) => el !== doc.documentElement && el !== doc.body);
}

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** How much two boxes cover each other: their intersection over their union (1: the same box, 0: apart or empty). */
export function overlapRatio(a: Box, b: Box): number {
  const width = Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left);
  const height = Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top);
  if (width <= 0 || height <= 0) return 0;
  const shared = width * height;
  return shared / (a.width * a.height + b.width * b.height - shared);
}

/** A replacement must cover at least this much of where the picture was (frameworks re-render in place). */
export const SAME_PLACE_OVERLAP = 0.5;

/** Of the candidates showing the same picture, the one most in its place, if any is in its place at all. */
export function inSamePlace<T>(box: Box, candidates: readonly { item: T; box: Box }[]): T | null {
  let best: { item: T; overlap: number } | null = null;
  for (const { item, box: other } of candidates) {
    const overlap = overlapRatio(box, other);
    if (overlap >= SAME_PLACE_OVERLAP && (!best || overlap > best.overlap)) best = { item, overlap };
  }
  return best?.item ?? null;
}

/**
 * What a picture is, to tell its replacement by: the kind and the address it shows; where there is
 * none (a canvas, an inline drawing, a stream), what it is made of.
 */
function pictureKey(element: Element): string | null {
  const target = asImageTarget(element, false);
  if (!target) return null;
  switch (target.kind) {
    case 'img':
    case 'background':
      return `${target.kind} ${target.url}`;
    case 'video':
      return `video ${target.element.currentSrc || target.element.src}`;
    case 'canvas':
      return `canvas ${target.element.width}x${target.element.height}`;
    case 'svg':
      return null; // compared whole, below
  }
}

/**
 * The element that took the place of `lost` after the page re-rendered it (a framework's
 * img.replaceWith(img.cloneNode(true))): the same kind showing the same picture, in the same place
 * (`box`, where `lost` last was), in the same document or shadow root; null if none.
 */
export function replacementOf(lost: Element, box: Box, root: Document | ShadowRoot): Element | null {
  const key = pictureKey(lost);
  const same = (element: Element) => element !== lost && element.localName === lost.localName && (key === null ? element.isEqualNode(lost) : pictureKey(element) === key);
  // Pictures by their tag (few on a page); CSS backgrounds only among what is at the picture's centre.
  const media = ['img', 'video', 'canvas', 'svg'].includes(lost.localName);
  const candidates = media ? [...root.querySelectorAll(lost.localName)] : root.elementsFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return inSamePlace(
    box,
    candidates.filter(same).map((element) => ({ item: element, box: element.getBoundingClientRect() })),
  );
}
