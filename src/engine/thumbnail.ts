import { toBase64 } from '../shared/base64';

/** A small square JPEG (data: URL) of an image, for the popup grid and the dataset view. */
export const THUMBNAIL_SIZE = 96;

/** The long side of the picture kept with each example: enough to remake the model's view and its distorted copies. */
export const PICTURE_SIDE = 384;

/**
 * Draws on a canvas of `width` x `height` and encodes it as a JPEG data: URL. Where there is a
 * document, synchronously: OffscreenCanvas.convertToBlob() + FileReader took a full second per
 * image in Chrome's offscreen document (a hidden page's tasks are throttled); toDataURL() does not
 * wait for the task queue. The engine's worker has no document, and no such throttling: there the
 * OffscreenCanvas encodes it.
 */
async function jpegOf(width: number, height: number, quality: number, draw: (context: CanvasDrawImage & CanvasImageSmoothing) => void): Promise<string> {
  const drawOn = (context: (CanvasDrawImage & CanvasImageSmoothing) | null) => {
    if (!context) throw new Error('no 2D canvas to encode a picture');
    draw(context);
  };
  if (typeof document !== 'undefined') {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    drawOn(canvas.getContext('2d'));
    return canvas.toDataURL('image/jpeg', quality);
  }
  const canvas = new OffscreenCanvas(width, height);
  drawOn(canvas.getContext('2d'));
  const jpeg = await canvas.convertToBlob({ type: 'image/jpeg', quality });
  return `data:image/jpeg;base64,${toBase64(await jpeg.arrayBuffer())}`;
}

/** The centred square, at THUMBNAIL_SIZE px. */
export function thumbnailOf(bitmap: ImageBitmap): Promise<string> {
  const side = Math.min(bitmap.width, bitmap.height);
  return jpegOf(THUMBNAIL_SIZE, THUMBNAIL_SIZE, 0.8, (context) =>
    context.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, THUMBNAIL_SIZE, THUMBNAIL_SIZE),
  );
}

/**
 * The picture kept with an example (long side at most PICTURE_SIDE px, JPEG 0.9), from which
 * another backbone can embed the example again.
 */
export function pictureOf(bitmap: ImageBitmap): Promise<string> {
  const scale = Math.min(1, PICTURE_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  return jpegOf(width, height, 0.9, (context) => {
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, width, height);
  });
}
