import { imageSize } from 'image-size';
import { SpotterError } from '../shared/errors';
import { decodeSize } from '../shared/image-size';

/**
 * Decodes image bytes into a bitmap no larger than the engine needs (longest side 1024 px).
 * Browser-only (createImageBitmap); works in offscreen documents and event pages alike.
 */
export async function decodeImage(blob: Blob): Promise<ImageBitmap> {
  if (!isSvg(blob)) {
    const problem = pixelCountProblem(new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer()));
    if (problem) throw new SpotterError('too-large', problem);
  }
  const full = await decodeFullSize(blob);
  const size = decodeSize(full.width, full.height);
  let scaled = full;
  if (size.width !== full.width || size.height !== full.height) {
    try {
      scaled = await createImageBitmap(full, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
    } finally {
      full.close();
    }
  }
  // A JPEG has no transparency; anything else may, and is shown the way most pages show it.
  return mimeType(blob) === 'image/jpeg' ? scaled : onWhite(scaled);
}

/**
 * Transparent pixels would reach the model (and the JPEG thumbnail) as black: a logo on a
 * transparent background would be seen on black. Pages mostly show them on white.
 */
function onWhite(bitmap: ImageBitmap): ImageBitmap {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d');
  if (!context) return bitmap;
  context.fillStyle = '#fff';
  context.fillRect(0, 0, bitmap.width, bitmap.height);
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return canvas.transferToImageBitmap();
}

/**
 * Images are decoded at full size before they are scaled down, so a small file that declares a
 * huge size (a 100 KB PNG of 30000 x 30000 px needs 3.6 GB) is refused by its header first.
 */
export const MAX_IMAGE_PIXELS = 100_000_000;
/** Enough of the file to find its size: JPEG's frame header can come after tens of KB of EXIF. */
const HEADER_BYTES = 1024 * 1024;

/** Why these image bytes are too big to decode, or null (also for formats whose size is unknown: the decoder decides). */
export function pixelCountProblem(bytes: Uint8Array): string | null {
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

async function decodeFullSize(blob: Blob): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(blob);
  } catch {
    // SVG cannot go through createImageBitmap(blob) in Chromium, but an <img> renders it.
    if (isSvg(blob)) return decodeThroughImageElement(blob);
    const kind = blob.type ? ` (the server says it is ${blob.type})` : '';
    throw new SpotterError('not-image', `This file is not an image Spotter can read${kind}.`);
  }
}

async function decodeThroughImageElement(blob: Blob): Promise<ImageBitmap> {
  const url = URL.createObjectURL(blob);
  try {
    const image = new Image();
    // HTMLImageElement.decode() never settles in Chromium's offscreen document; onload does.
    await new Promise<void>((resolve, reject) => {
      image.onload = () => resolve();
      image.onerror = () => reject(new SpotterError('not-image', 'This SVG image could not be rendered.'));
      image.src = url;
    });
    // Drawn straight at the size the engine needs: an SVG can declare any size at all.
    const size = decodeSize(image.naturalWidth || 512, image.naturalHeight || 512);
    return await createImageBitmap(image, { resizeWidth: size.width, resizeHeight: size.height });
  } finally {
    URL.revokeObjectURL(url);
  }
}
