import { SpotterError } from '../shared/errors';
import { MAX_IMAGE_BYTES } from '../shared/protocol';

const formatMB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** A download that has not finished by then is given up (a stalled server, an endless MJPEG stream). */
export const DOWNLOAD_TIMEOUT_MS = 30_000;

/**
 * Downloads the image the user asked for, from an extension context: host permissions let it
 * read cross-origin images that send no CORS headers, without touching the page.
 */
export async function fetchImageBlob(url: string, maxBytes = MAX_IMAGE_BYTES, timeoutMs = DOWNLOAD_TIMEOUT_MS): Promise<Blob> {
  const blob = url.startsWith('file:') ? await readFileUrl(url) : await fetchHttpOrData(url, maxBytes, timeoutMs);
  if (blob.size === 0) throw new SpotterError('not-image', 'The image is empty (0 bytes).');
  if (blob.size > maxBytes) throw tooLarge(`${formatMB(blob.size)}`, maxBytes);
  return blob;
}

const tooLarge = (size: string, maxBytes: number) => new SpotterError('too-large', `The image is too large (${size}; the limit is ${formatMB(maxBytes)}).`);

async function fetchHttpOrData(url: string, maxBytes: number, timeoutMs: number): Promise<Blob> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const failure = () =>
    controller.signal.aborted
      ? new SpotterError('network', `The image took more than ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`} to download, so Spotter gave up.`)
      : new SpotterError('network', 'The image could not be downloaded (network error or blocked address).');
  try {
    let response: Response;
    try {
      response = await fetch(url, { credentials: 'include', cache: 'force-cache', signal: controller.signal });
    } catch {
      throw failure();
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new SpotterError('http', `The image could not be downloaded (HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}).`);
    }
    const declared = Number(response.headers.get('content-length'));
    if (declared > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge(formatMB(declared), maxBytes);
    }
    return await readBody(response, maxBytes, failure);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads the body, stopping as soon as it passes maxBytes: a missing or lying Content-Length must not fill the memory. */
async function readBody(response: Response, maxBytes: number, failure: () => SpotterError): Promise<Blob> {
  const type = response.headers.get('content-type') ?? '';
  if (!response.body) return response.blob();
  const reader = response.body.getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array<ArrayBuffer>>;
    try {
      chunk = await reader.read();
    } catch {
      throw failure();
    }
    if (chunk.done) return new Blob(chunks, { type });
    size += chunk.value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`more than ${formatMB(maxBytes)}`, maxBytes);
    }
    chunks.push(chunk.value);
  }
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
