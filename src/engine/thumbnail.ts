/** A small square JPEG (data: URL) of an image, for the popup grid and the dataset view. */
export const THUMBNAIL_SIZE = 96;

export async function thumbnailOf(bitmap: ImageBitmap): Promise<string> {
  const side = Math.min(bitmap.width, bitmap.height);
  const canvas = new OffscreenCanvas(THUMBNAIL_SIZE, THUMBNAIL_SIZE);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2D canvas for thumbnails');
  context.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, THUMBNAIL_SIZE, THUMBNAIL_SIZE);
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(new Error('thumbnail could not be encoded'));
    reader.readAsDataURL(blob);
  });
}
