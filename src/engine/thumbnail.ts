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

/** The long side of the picture kept with each example: enough to remake the model's view and its distorted copies. */
export const PICTURE_SIDE = 384;

/**
 * The picture kept with an example (a JPEG data: URL, long side at most PICTURE_SIDE px), from
 * which another backbone can embed the example again. Synchronous for the same reason as thumbnailOf.
 */
export function pictureOf(bitmap: ImageBitmap): string {
  const scale = Math.min(1, PICTURE_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2D canvas for pictures');
  context.imageSmoothingQuality = 'high';
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/jpeg', 0.9);
}
