import { SpotterError } from '../shared/errors';
import { decodeSize } from '../shared/image-size';

/**
 * Decodes image bytes into a bitmap no larger than the engine needs (longest side 1024 px).
 * Browser-only (createImageBitmap); works in offscreen documents and event pages alike.
 */
export async function decodeImage(blob: Blob): Promise<ImageBitmap> {
  const full = await decodeFullSize(blob);
  const size = decodeSize(full.width, full.height);
  if (size.width === full.width && size.height === full.height) return full;
  try {
    return await createImageBitmap(full, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
  } finally {
    full.close();
  }
}

async function decodeFullSize(blob: Blob): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(blob);
  } catch {
    // SVG cannot go through createImageBitmap(blob) in Chromium, but an <img> renders it.
    // The type can carry parameters: "image/svg+xml; charset=utf-8".
    if (blob.type.split(';')[0]!.trim().toLowerCase() === 'image/svg+xml') return decodeThroughImageElement(blob);
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
