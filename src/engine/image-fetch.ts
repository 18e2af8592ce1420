import { SpotterError } from '../shared/errors';
import { MAX_IMAGE_BYTES } from '../shared/protocol';

const formatMB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Downloads the image the user asked for, from an extension context: host permissions let it
 * read cross-origin images that send no CORS headers, without touching the page.
 */
export async function fetchImageBlob(url: string, maxBytes = MAX_IMAGE_BYTES): Promise<Blob> {
  const blob = url.startsWith('file:') ? await readFileUrl(url) : await fetchHttpOrData(url, maxBytes);
  if (blob.size === 0) throw new SpotterError('not-image', 'The image is empty (0 bytes).');
  if (blob.size > maxBytes) throw new SpotterError('too-large', `The image is too large (${formatMB(blob.size)}; the limit is ${formatMB(maxBytes)}).`);
  return blob;
}

async function fetchHttpOrData(url: string, maxBytes: number): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: 'include', cache: 'force-cache' });
  } catch {
    throw new SpotterError('network', 'The image could not be downloaded (network error or blocked address).');
  }
  if (!response.ok) {
    throw new SpotterError('http', `The image could not be downloaded (HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}).`);
  }
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new SpotterError('too-large', `The image is too large (${formatMB(declared)}; the limit is ${formatMB(maxBytes)}).`);
  }
  return response.blob();
}

/** fetch() cannot read file: URLs in extension pages; XMLHttpRequest can once file access is allowed. */
function readFileUrl(url: string): Promise<Blob> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('GET', url);
    request.responseType = 'blob';
    request.onload = () => resolve(request.response as Blob);
    request.onerror = () =>
      reject(new SpotterError('network', 'The local file could not be read. In the browser\'s extension details, turn on "Allow access to file URLs" for Spotter.'));
    request.send();
  });
}
