import { SpotterError } from '../shared/errors';
import { MAX_IMAGE_BYTES, MAX_IMAGE_URL_LENGTH, type ImageSource } from '../shared/protocol';
import { decodeSize } from '../shared/image-size';
import { isFlat } from '../shared/flat-colour';
import { imageTypeOf } from '../shared/image-type';
import type { ImageTarget } from './find-image';

/**
 * Turns what was clicked into an ImageSource the engine host can read. URLs go as they are
 * (the engine host fetches them with the extension's permissions); pixels that only the page
 * can reach (canvas, the current video frame, blob: URLs, inline SVG) are copied out here.
 */
export async function toImageSource(target: ImageTarget): Promise<ImageSource> {
  switch (target.kind) {
    case 'img':
    case 'background':
      return urlSource(target.url);
    case 'canvas':
      return { url: snapshot(target.element, target.element.width, target.element.height, 'canvas') };
    case 'video':
      if (target.element.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || target.element.videoWidth === 0) {
        throw new SpotterError('unreadable', 'The video has no frame to show yet. Play it, then try again.');
      }
      return { url: snapshot(target.element, target.element.videoWidth, target.element.videoHeight, 'video') };
    case 'svg':
      return { url: drawingDataUrl(target.element) };
  }
}

async function urlSource(url: string): Promise<ImageSource> {
  if (url.startsWith('blob:')) return { url: await blobUrlToDataUrl(url) };
  if (url.startsWith('data:') && !/^data:image\//i.test(url)) {
    throw new SpotterError('not-image', 'This data: URL does not hold an image.');
  }
  // Said here: past this the request itself would be refused as malformed.
  if (url.startsWith('data:') && url.length > MAX_IMAGE_URL_LENGTH) throw new SpotterError('too-large', 'The image is too large (over 32 MB).');
  if (!/^(https?:|file:|data:)/i.test(url)) throw new SpotterError('unreadable', `Spotter cannot read images from ${url.split(':')[0]}: addresses.`);
  return { url };
}

/** blob: URLs belong to the page's origin, so only the content script can read them. */
async function blobUrlToDataUrl(url: string): Promise<string> {
  let blob: Blob;
  try {
    blob = await (await fetch(url)).blob();
  } catch {
    throw new SpotterError('network', 'This blob: image is no longer available (the page has released it).');
  }
  if (blob.size > MAX_IMAGE_BYTES) throw new SpotterError('too-large', 'The image is too large (over 32 MB).');
  if (!blob.type.startsWith('image/')) {
    // Pages often make blobs without a type (new Blob([bytes])); the browser shows them by their bytes, so look at those.
    const sniffed = blob.type === '' || blob.type === 'application/octet-stream' ? imageTypeOf(new Uint8Array(await blob.slice(0, 16).arrayBuffer())) : null;
    if (!sniffed) throw new SpotterError('not-image', `This blob: URL does not hold an image${blob.type ? ` (${blob.type})` : ''}.`);
    blob = new Blob([blob], { type: sniffed });
  }
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(new SpotterError('unreadable', 'This blob: image could not be read.'));
    reader.readAsDataURL(blob);
  });
}

/** Copies the pixels of a canvas or the current video frame, scaled to at most 1024 px. */
function snapshot(source: HTMLCanvasElement | HTMLVideoElement, width: number, height: number, what: 'canvas' | 'video'): string {
  if (width === 0 || height === 0) throw new SpotterError('no-image', `This ${what} is empty.`);
  const size = decodeSize(width, height);
  const copy = document.createElement('canvas');
  copy.width = size.width;
  copy.height = size.height;
  let dataUrl: string;
  let flat: boolean;
  try {
    copy.getContext('2d')?.drawImage(source, 0, 0, size.width, size.height);
    dataUrl = copy.toDataURL('image/png');
    // Firefox lets a content script's toDataURL through here but refuses the pixel check below.
    flat = isBlankSnapshot(copy);
  } catch (error) {
    if (!(error instanceof Error && error.name === 'SecurityError')) throw error;
    throw new SpotterError(
      'unreadable',
      what === 'canvas'
        ? 'This canvas cannot be read: the page drew an image from another site on it.'
        : 'This video comes from another site that does not allow reading its frames.',
    );
  }
  if (flat) {
    throw new SpotterError(
      'unreadable',
      what === 'canvas'
        ? 'This canvas is blank to Spotter (one flat colour): nothing to classify. Pages that draw with WebGL may not let their pixels be copied.'
        : 'This video frame is blank to Spotter (one flat colour): nothing to classify. Protected videos do not let their frames be copied.',
    );
  }
  return dataUrl;
}

/** Whether a snapshot is one flat colour, as an undrawn canvas, a cleared WebGL buffer or a protected video frame copy out. */
function isBlankSnapshot(canvas: HTMLCanvasElement): boolean {
  const probe = document.createElement('canvas');
  probe.width = probe.height = 16;
  const context = probe.getContext('2d', { willReadFrequently: true });
  if (!context) return false;
  context.drawImage(canvas, 0, 0, 16, 16);
  return isFlat(context.getImageData(0, 0, 16, 16).data, 2);
}

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
function drawingDataUrl(svg: SVGSVGElement): string {
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
function addReferencedDefinitions(copy: SVGSVGElement, root: Document | ShadowRoot): void {
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
