/**
 * An inline <svg> drawing, copied out as a standalone SVG data: URL that the engine host can draw.
 * A drawing used as an image is sandboxed: it loads nothing from outside. So what the page's
 * copy draws from elsewhere goes into the copy: page CSS (computed values), definitions elsewhere
 * in the page (<use href="#icon">, url(#grad)), and, fetched here, <image> pictures and symbols
 * from external sprite files (<use href="icons.svg#x">).
 */
import { SpotterError } from '../shared/errors';
import { MAX_IMAGE_BYTES, MAX_IMAGE_URL_LENGTH } from '../shared/protocol';
import { asImageBlob, readAsDataUrl } from './data-url';

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Presentation properties that the page's style sheets may set on an inline drawing. The copy is
 * drawn on its own, where those style sheets no longer reach, so their computed values go with it.
 * (Not transform: a computed "none" would override the elements' transform attributes.)
 */
const DRAWING_STYLE = [
  'fill', 'fill-opacity', 'fill-rule', 'stroke', 'stroke-width', 'stroke-opacity', 'stroke-dasharray', 'stroke-dashoffset', 'stroke-linecap',
  'stroke-linejoin', 'stroke-miterlimit', 'opacity', 'visibility', 'display', 'color', 'stop-color', 'stop-opacity', 'font-family', 'font-size',
  'font-weight', 'font-style', 'text-anchor', 'dominant-baseline', 'clip-path', 'mask', 'filter', 'marker-start', 'marker-mid', 'marker-end', 'paint-order',
];
const DEFINITIONS = 'defs, symbol, clipPath, mask, marker, pattern';
/** Past this many elements (a huge chart), copying every computed style would stall the page: the drawing goes as written. */
const MAX_STYLED_ELEMENTS = 5000;

/** An inline <svg> as a standalone SVG data: URL, at the size the page shows it. */
export async function drawingDataUrl(svg: SVGSVGElement): Promise<string> {
  const { width, height } = svg.getBoundingClientRect();
  if (width < 1 || height < 1) throw new SpotterError('no-image', 'This drawing is not shown on the page (it has no size).');
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const originals = [svg, ...svg.querySelectorAll('*')];
  const copies = [copy, ...copy.querySelectorAll('*')];
  const view = svg.ownerDocument.defaultView ?? window;
  const page = svg.ownerDocument.URL.split('#')[0]!;
  if (originals.length <= MAX_STYLED_ELEMENTS) {
    originals.forEach((original, i) => {
      const style = view.getComputedStyle(original);
      const target = copies[i];
      if (target?.namespaceURI !== SVG_NS) return;
      // Pages hide definitions (a <symbol>, a clip path) with display: none; where they are used they still
      // draw, but an inline display: none goes into every use of the copy and hides it.
      const definition = original.closest(DEFINITIONS) !== null;
      for (const property of DRAWING_STYLE) {
        if (property === 'display' && definition) continue;
        (target as SVGElement).style.setProperty(property, localReferences(style.getPropertyValue(property), page));
      }
    });
  }
  addReferencedDefinitions(copy, svg.getRootNode() as Document | ShadowRoot);
  await addExternalSymbols(copy, svg.ownerDocument.baseURI);
  await inlinePictures(copy, svg.ownerDocument.baseURI);
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    copy.setAttribute(name, String(value));
    copy.style.setProperty(name, `${value}px`);
  }
  const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(new XMLSerializer().serializeToString(copy))}`;
  if (url.length > MAX_IMAGE_URL_LENGTH) throw new SpotterError('too-large', 'This drawing is too large for Spotter to copy (over 32 MB).');
  return url;
}

/** Computed url(...) values can name the page itself ("https://site/page#grad"); in the copy, only "#grad" still points at the gradient. */
function localReferences(value: string, page: string): string {
  return value.replace(/url\(\s*(["']?)([^"')]*)#([^"')]+)\1\s*\)/g, (whole, _quote: string, base: string, id: string) => (base === '' || base === page ? `url("#${id}")` : whole));
}

/**
 * Icons often draw a symbol, gradient or clip path defined elsewhere in the page (<use href="#icon">,
 * fill="url(#grad)"): copies of those definitions go along, or the copy would draw nothing.
 */
function addReferencedDefinitions(copy: SVGSVGElement, root: Pick<Document, 'getElementById'>): void {
  const defs = copy.ownerDocument.createElementNS(SVG_NS, 'defs');
  const present = (id: string) => copy.querySelector(`[id="${CSS.escape(id)}"]`) !== null;
  for (let round = 0; round < 10; round++) {
    const wanted = new Set<string>();
    for (const element of [copy, ...copy.querySelectorAll('*')]) {
      for (const attribute of element.attributes) {
        const local = attribute.localName === 'href' ? /^#(.+)$/.exec(attribute.value)?.[1] : undefined;
        if (local) wanted.add(local);
        for (const match of attribute.value.matchAll(/url\(\s*["']?#([^"')]+)["']?\s*\)/g)) wanted.add(match[1]!);
      }
    }
    const missing = [...wanted].filter((id) => !present(id)).flatMap((id) => {
      // In a web component, the definitions are in its shadow root.
      const definition = root.getElementById(id);
      return definition?.namespaceURI === SVG_NS ? [definition] : [];
    });
    if (missing.length === 0) break;
    for (const definition of missing) defs.append(definition.cloneNode(true));
    if (!defs.isConnected) copy.prepend(defs);
  }
}

const XLINK_NS = 'http://www.w3.org/1999/xlink';
/** Enough for any real drawing; a page with thousands of linked pictures is not waited for. */
const MAX_FETCHES = 50;
/** Fetches here cannot use the extension's own stall timeout (the engine host's): a slow server must not keep the overlay spinning. */
const FETCH_TIMEOUT_MS = 15_000;

function hrefOf(element: Element): string | null {
  return element.getAttribute('href') ?? element.getAttributeNS(XLINK_NS, 'href');
}

function setHref(element: Element, value: string): void {
  element.removeAttributeNS(XLINK_NS, 'href');
  element.setAttribute('href', value);
}

/** The URL a reference names, or null for one inside the drawing (#id) or already inline (data:). */
function externalUrl(href: string | null, base: string): URL | null {
  if (!href || href.startsWith('#') || /^data:/i.test(href)) return null;
  try {
    const url = new URL(href, base);
    return /^https?:|^file:/.test(url.protocol) ? url : null;
  } catch {
    return null;
  }
}

/** What the page itself may read (its own origin, or a server that allows it): the content script fetches as the page. */
async function fetchAsPage(url: URL): Promise<Blob | null> {
  try {
    // Cookies only to the page's own origin: Firefox's content-script fetch is not bound to the page's origin rules.
    const credentials = url.origin === location.origin ? 'same-origin' : 'omit';
    const response = await fetch(url, { credentials, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) return null;
    const length = Number(response.headers.get('content-length'));
    if (length > MAX_IMAGE_BYTES) return null;
    const blob = await response.blob();
    return blob.size > MAX_IMAGE_BYTES ? null : blob;
  } catch {
    return null;
  }
}

/**
 * <use href="sprite.svg#x">: the symbol (and what it references in its file) is copied into the
 * drawing and the reference made local. A sprite that cannot be fetched is left as is.
 */
async function addExternalSymbols(copy: SVGSVGElement, base: string): Promise<void> {
  const uses = [...copy.querySelectorAll('use')].map((use) => ({ use, url: externalUrl(hrefOf(use), base) })).filter((entry): entry is { use: SVGUseElement; url: URL } => entry.url !== null && entry.url.hash.length > 1);
  const files = new Map<string, Promise<Document | null>>();
  for (const { url } of uses.slice(0, MAX_FETCHES)) {
    const file = url.href.split('#')[0]!;
    if (!files.has(file)) files.set(file, fetchSprite(new URL(file)));
  }
  for (const { use, url } of uses) {
    const sprite = await files.get(url.href.split('#')[0]!);
    const id = decodeURIComponent(url.hash.slice(1));
    const symbol = sprite?.getElementById(id);
    if (!sprite || symbol?.namespaceURI !== SVG_NS) continue;
    if (!copy.querySelector(`[id="${CSS.escape(id)}"]`)) {
      const defs = copy.ownerDocument.createElementNS(SVG_NS, 'defs');
      defs.append(copy.ownerDocument.importNode(symbol, true));
      copy.prepend(defs);
      addReferencedDefinitions(copy, sprite);
    }
    setHref(use, `#${id}`);
  }
}

async function fetchSprite(url: URL): Promise<Document | null> {
  const blob = await fetchAsPage(url);
  if (!blob) return null;
  const sprite = new DOMParser().parseFromString(await blob.text(), 'image/svg+xml');
  if (sprite.querySelector('parsererror')) return null;
  // Pictures inside the sprite are named relative to the sprite's own address.
  for (const image of sprite.querySelectorAll('image')) {
    const absolute = externalUrl(hrefOf(image), url.href);
    if (absolute) setHref(image, absolute.href);
  }
  return sprite;
}

/** <image href="photo.jpg">: the picture's bytes go into the copy as a data: URL. One that cannot be fetched is left out of the copy's drawing. */
async function inlinePictures(copy: SVGSVGElement, base: string): Promise<void> {
  const images = [...copy.querySelectorAll('image')].map((image) => ({ image, url: externalUrl(hrefOf(image), base) })).filter((entry): entry is { image: SVGImageElement; url: URL } => entry.url !== null);
  const fetched = new Map<string, Promise<string | null>>();
  for (const { url } of images.slice(0, MAX_FETCHES)) if (!fetched.has(url.href)) fetched.set(url.href, pictureDataUrl(url));
  await Promise.all(
    images.map(async ({ image, url }) => {
      const dataUrl = await fetched.get(url.href);
      if (dataUrl) setHref(image, dataUrl);
    }),
  );
}

async function pictureDataUrl(url: URL): Promise<string | null> {
  const blob = await fetchAsPage(url);
  if (!blob) return null;
  const image = await asImageBlob(blob);
  return image ? readAsDataUrl(image).catch(() => null) : null;
}
