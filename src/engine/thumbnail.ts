/** A small square JPEG (data: URL) of an image, for the popup grid and the dataset view. */
export const THUMBNAIL_SIZE = 96;

/**
 * Synchronous on purpose: OffscreenCanvas.convertToBlob() + FileReader took a full second per
 * image in Chrome's offscreen document (a hidden page's tasks are throttled); toDataURL() does not
 * wait for the task queue. Both engine hosts (offscreen document, Firefox event page) have a DOM.
 */
export function thumbnailOf(bitmap: ImageBitmap): string {
  const side = Math.min(bitmap.width, bitmap.height);
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = THUMBNAIL_SIZE;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2D canvas for thumbnails');
  context.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, THUMBNAIL_SIZE, THUMBNAIL_SIZE);
  return canvas.toDataURL('image/jpeg', 0.8);
}
