import { imageTypeOf } from '../shared/image-type';

/** A blob's bytes as a data: URL (what the engine host can read without the page's origin). */
export function readAsDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('the blob could not be read'));
    reader.readAsDataURL(blob);
  });
}

/**
 * The blob typed as the image it holds, or null when it holds none. Pages make blobs without a
 * type (new Blob([bytes])) and servers send images as application/octet-stream; browsers show
 * them by their bytes, so those are looked at. A blob that claims another type is taken at its word.
 */
export async function asImageBlob(blob: Blob): Promise<Blob | null> {
  if (blob.type.startsWith('image/')) return blob;
  if (blob.type !== '' && blob.type !== 'application/octet-stream') return null;
  const sniffed = imageTypeOf(new Uint8Array(await blob.slice(0, 16).arrayBuffer()));
  return sniffed ? new Blob([blob], { type: sniffed }) : null;
}
