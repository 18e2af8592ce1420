import { toBase64 } from '../shared/base64';

/** A small square JPEG (data: URL) of an image, for the popup grid and the dataset view. */
export const THUMBNAIL_SIZE = 96;

/**
 * Where there is a document, synchronously: OffscreenCanvas.convertToBlob() + FileReader took a
 * full second per image in Chrome's offscreen document (a hidden page's tasks are throttled);
 * toDataURL() does not wait for the task queue. The engine's worker has no document, and no such
 * throttling: there the OffscreenCanvas encodes it.
 */
export async function thumbnailOf(bitmap: ImageBitmap): Promise<string> {
  const side = Math.min(bitmap.width, bitmap.height);
  const draw = (context: CanvasDrawImage | null) => {
    if (!context) throw new Error('no 2D canvas for thumbnails');
    context.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, THUMBNAIL_SIZE, THUMBNAIL_SIZE);
  };
  if (typeof document !== 'undefined') {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = THUMBNAIL_SIZE;
    draw(canvas.getContext('2d'));
    return canvas.toDataURL('image/jpeg', 0.8);
  }
  const canvas = new OffscreenCanvas(THUMBNAIL_SIZE, THUMBNAIL_SIZE);
  draw(canvas.getContext('2d'));
  const jpeg = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
  return `data:image/jpeg;base64,${toBase64(await jpeg.arrayBuffer())}`;
}
