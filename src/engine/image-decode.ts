import { imageSize } from 'image-size';
import { SpotterError } from '../shared/errors';
import { byteSourceOf, declaredSize } from './declared-size';
import { decodeSize } from '../shared/image-size';
import { looksFlat } from '../shared/flat-colour';
import { imageTypeOf, undecodableMessage } from '../shared/image-type';
import { SVG_DAMAGED_MESSAGE, svgProblem } from './svg-document';
import { svgText } from './svg-measure';

/**
 * Decodes image bytes into a bitmap no larger than the engine needs (longest side 1024 px), on
 * white where the image is transparent. Refuses, with a message for the user, what holds nothing
 * to recognise: bytes that are no image, a few pixels, one flat colour.
 * Browser-only (createImageBitmap); works in the engine's worker, offscreen documents and event
 * pages alike (what only a document can draw goes through drawImageElementsWith).
 * @param url where the bytes came from, only to word the messages
 */
export async function decodeImage(blob: Blob, url = ''): Promise<ImageBitmap> {
  const head = new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer());
  const bitmap = isSvg(blob) ? await renderSvg(blob) : await decodeRaster(blob, head, url);
  if (isOneColour(bitmap)) {
    bitmap.close();
    throw new SpotterError('blank', 'This image is one flat colour: there is nothing in it to recognise.');
  }
  return bitmap;
}

async function decodeRaster(blob: Blob, head: Uint8Array, url: string): Promise<ImageBitmap> {
  const problem = await pixelCountProblem(blob);
  if (problem) throw problem;
  let full: ImageBitmap;
  try {
    full = await createImageBitmap(blob);
  } catch {
    // Chromium's createImageBitmap refuses a JPEG that was cut short, which its <img> (and Firefox's
    // createImageBitmap) show in part: read what the page shows. Anything else that fails is explained.
    const shown = imageTypeOf(head) ? await imageElementDrawer(blob, { kind: 'raster' }).catch(() => null) : null;
    if (!shown) throw new SpotterError('not-image', undecodableMessage(head, mimeType(blob), url));
    return shown;
  }
  let owned: ImageBitmap | null = full;
  try {
    const size = rasterSize(full.width, full.height);
    // By the bytes, not the server's word: a transparent PNG served as image/jpeg came out on black.
    if (imageTypeOf(head) !== 'image/jpeg') return await onWhite(full, size);
    // A JPEG has no transparency: scaling is all it needs.
    if (size.width !== full.width || size.height !== full.height) return await createImageBitmap(full, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
    owned = null;
    return full;
  } finally {
    owned?.close();
  }
}

/** The size a raster image is decoded at; throws for one too small to show anything. */
function rasterSize(width: number, height: number): { width: number; height: number } {
  tooSmallCheck(width, height);
  return decodeSize(width, height);
}

/** Fewer pixels than this on a side is a spacer, a tracking pixel or a strip of a gradient, not a picture. */
export const MIN_IMAGE_SIDE = 16;

function tooSmallCheck(width: number, height: number): void {
  if (Math.min(width, height) >= MIN_IMAGE_SIDE) return;
  throw new SpotterError('too-small', `This image is only ${width} x ${height} pixels: too small to recognise anything in (the page may show it enlarged).`);
}

/** A vector drawing has no pixel size of its own: drawn with its longest side at this many pixels. */
const SVG_SIDE = 512;

/** SVG cannot go through createImageBitmap(blob) in Chromium, but an <img> renders it. */
async function renderSvg(blob: Blob): Promise<ImageBitmap> {
  // An SVG with only a viewBox has no natural size in Firefox: its viewBox gives the shape.
  const aspect = viewBoxAspect(await blob.slice(0, 4096).text());
  return imageElementDrawer(blob, { kind: 'svg', aspect }).catch((error: unknown) => {
    if (error instanceof SpotterError) throw error;
    throw new SpotterError('not-image', SVG_DAMAGED_MESSAGE);
  });
}

/** How an <img> draws: an SVG with its longest side at SVG_SIDE; a raster image that createImageBitmap refused, at its decode size. */
export type ImageElementSizing = { kind: 'svg'; aspect: number | null } | { kind: 'raster' };

/**
 * Draws bytes through an <img>, which only a document has. The engine's worker hands this to its
 * document (engine-worker.ts); where there is a document, it draws here.
 */
export type ImageElementDrawer = (blob: Blob, sizing: ImageElementSizing) => Promise<ImageBitmap>;

let imageElementDrawer: ImageElementDrawer = drawWithImageElement;

export function drawImageElementsWith(drawer: ImageElementDrawer): void {
  imageElementDrawer = drawer;
}

/**
 * The document's side: an SVG is parsed and measured first (svg-document.ts), since one built to
 * expand to billions of nodes would hold this thread for good once drawn.
 */
export async function drawWithImageElement(blob: Blob, sizing: ImageElementSizing): Promise<ImageBitmap> {
  if (sizing.kind === 'svg') {
    // Read in the encoding the <img> will read it in (a UTF-16 file read as UTF-8 would parse as nothing).
    const charset = /;\s*charset="?([\w.:-]+)/i.exec(blob.type)?.[1] ?? null;
    const problem = svgProblem(svgText(new Uint8Array(await blob.arrayBuffer()), charset), nestedPixelCountProblem);
    if (problem) throw new SpotterError(problem.code, problem.message);
  }
  return drawThroughImageElement(blob, (width, height) => {
    if (sizing.kind === 'raster') return width && height ? rasterSize(width, height) : null;
    const [w, h] = width > 0 && height > 0 ? [width, height] : sizing.aspect ? [sizing.aspect, 1] : [1, 1];
    const scale = SVG_SIDE / Math.max(w, h);
    const size = { width: Math.round(w * scale), height: Math.round(h * scale) };
    tooSmallCheck(size.width, size.height);
    return size;
  });
}

/** Width / height from the root element's viewBox, or null. */
export function viewBoxAspect(svgText: string): number | null {
  const root = /<svg\b[^>]*>/i.exec(svgText)?.[0] ?? '';
  const box = /\bviewBox\s*=\s*["']\s*[-\d.e]+[\s,]+[-\d.e]+[\s,]+([\d.e]+)[\s,]+([\d.e]+)\s*["']/i.exec(root);
  const width = Number(box?.[1]);
  const height = Number(box?.[2]);
  return width > 0 && height > 0 ? width / height : null;
}

/**
 * Loads the bytes in an <img> and draws it, on white, at the size `sizeFor(naturalWidth, naturalHeight)`
 * gives (null: cannot be drawn). HTMLImageElement.decode() never settles in Chromium's offscreen
 * document; onload does. Drawing on a canvas (not createImageBitmap(img)) also draws SVGs that
 * have no natural size, which Chromium's createImageBitmap left blank.
 */
async function drawThroughImageElement(blob: Blob, sizeFor: (width: number, height: number) => { width: number; height: number } | null): Promise<ImageBitmap> {
  const url = URL.createObjectURL(blob);
  try {
    const image = new Image();
    await new Promise<void>((resolve, reject) => {
      image.onload = () => resolve();
      image.onerror = () => reject(new Error('the image element could not load it'));
      image.src = url;
    });
    const size = sizeFor(image.naturalWidth, image.naturalHeight);
    if (!size) throw new Error('the image has no size');
    const canvas = new OffscreenCanvas(size.width, size.height);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2D canvas');
    context.fillStyle = '#fff';
    context.fillRect(0, 0, size.width, size.height);
    context.drawImage(image, 0, 0, size.width, size.height);
    return canvas.transferToImageBitmap();
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * Scales to `size` and puts the image on white: transparent pixels would reach the model (and the
 * JPEG thumbnail) as black, so a logo on a transparent background would be seen on black. Pages
 * mostly show them on white.
 */
async function onWhite(bitmap: ImageBitmap, size: { width: number; height: number }): Promise<ImageBitmap> {
  const scaled = size.width === bitmap.width && size.height === bitmap.height ? bitmap : await createImageBitmap(bitmap, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
  try {
    const canvas = new OffscreenCanvas(size.width, size.height);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2D canvas');
    context.fillStyle = '#fff';
    context.fillRect(0, 0, size.width, size.height);
    context.drawImage(scaled, 0, 0);
    return canvas.transferToImageBitmap();
  } finally {
    if (scaled !== bitmap) scaled.close();
  }
}

/** How far a channel may stray from the first pixel for the image to still count as one colour (JPEG noise). */
const FLAT_TOLERANCE = 6;

/** Whether the bitmap is (nearly) one colour throughout: a blank or solid image (see looksFlat). */
function isOneColour(bitmap: ImageBitmap): boolean {
  // Looked at no larger than 64 px, averaged ('high'): cheap on every click, and a one-pixel line across a
  // 1024 px image still shifts its cells by a sixteenth (16 levels on white, past the tolerance).
  const canvas = new OffscreenCanvas(1, 1);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) return false;
  return looksFlat(
    bitmap.width,
    bitmap.height,
    (area, width, height) => {
      // Resizing the canvas clears it and resets the context's settings.
      canvas.width = width;
      canvas.height = height;
      context.imageSmoothingQuality = 'high';
      context.drawImage(bitmap, area.x, area.y, area.width, area.height, 0, 0, width, height);
      return context.getImageData(0, 0, width, height).data;
    },
    { tolerance: FLAT_TOLERANCE, overviewSide: 64 },
  );
}

/**
 * Images are decoded at full size before they are scaled down, so a small file that declares a
 * huge size (a 100 KB PNG of 30000 x 30000 px needs 3.6 GB) is refused by its header first.
 */
export const MAX_IMAGE_PIXELS = 100_000_000;
/** Enough of the file to tell its type and to word the messages. */
const HEADER_BYTES = 64 * 1024;

/**
 * Why these image bytes must not be decoded, or null: more pixels than the limit, by the size the
 * file declares wherever in it that sits (declared-size.ts), or a format Spotter knows whose size
 * is nowhere to be found, which leaves nothing safe to decode. Bytes of no known format are left
 * to the decoder, which can read only the formats declaredSize knows.
 */
export async function pixelCountProblem(data: Blob | Uint8Array): Promise<SpotterError | null> {
  const size = await declaredSize(byteSourceOf(data));
  if (!size.found) {
    if (!size.format) return null;
    const head = data instanceof Uint8Array ? data.subarray(0, HEADER_BYTES) : new Uint8Array(await data.slice(0, HEADER_BYTES).arrayBuffer());
    return new SpotterError('not-image', undecodableMessage(head, '', ''));
  }
  const { width, height } = size;
  if (width * height <= MAX_IMAGE_PIXELS) return null;
  return new SpotterError('too-large', `The image is too large to decode (${width} x ${height} pixels; the limit is ${MAX_IMAGE_PIXELS / 1_000_000} megapixels).`);
}

/**
 * The pixel check for a picture nested in an SVG (a data: URL): its bytes are all in memory, so
 * image-size reads them whole, synchronously, as the SVG measurement needs.
 */
function nestedPixelCountProblem(bytes: Uint8Array): string | null {
  let size: { width?: number; height?: number };
  try {
    size = imageSize(bytes);
  } catch {
    return null;
  }
  const { width = 0, height = 0 } = size;
  if (width * height <= MAX_IMAGE_PIXELS) return null;
  return `The image is too large to decode (${width} x ${height} pixels; the limit is ${MAX_IMAGE_PIXELS / 1_000_000} megapixels).`;
}

// The type can carry parameters: "image/svg+xml; charset=utf-8".
const mimeType = (blob: Blob) => blob.type.split(';')[0]!.trim().toLowerCase();
const isSvg = (blob: Blob) => mimeType(blob) === 'image/svg+xml';
