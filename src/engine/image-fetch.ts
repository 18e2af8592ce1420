import { getDomain } from 'tldts';
import { SpotterError } from '../shared/errors';
import { MAX_IMAGE_BYTES, type ImageSource } from '../shared/protocol';

const formatMB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** A download that has not finished by then is given up (a stalled server, an endless MJPEG stream). */
export const DOWNLOAD_TIMEOUT_MS = 30_000;

export interface DownloadLimits {
  maxBytes?: number;
  timeoutMs?: number;
}

/**
 * Downloads the image the user asked for, from an extension context: host permissions let it
 * read cross-origin images that send no CORS headers, without touching the page.
 */
export async function fetchImageBlob(source: ImageSource, { maxBytes = MAX_IMAGE_BYTES, timeoutMs = DOWNLOAD_TIMEOUT_MS }: DownloadLimits = {}): Promise<Blob> {
  const { url, pageUrl } = source;
  // The engine reads with the extension's rights: a web page must not get a local file read by naming it.
  if (!mayReadFor(pageUrl, url)) throw new SpotterError('unreadable', 'Spotter reads local files only for pages that are local files themselves.');
  const blob = /^file:/i.test(url) ? await readFileUrl(url, maxBytes, timeoutMs) : await fetchHttpOrData(url, credentialsFor(url, pageUrl), maxBytes, timeoutMs);
  if (blob.size === 0) throw new SpotterError('not-image', 'The image is empty (0 bytes).');
  if (blob.size > maxBytes) throw tooLarge(formatMB(blob.size), maxBytes);
  return blob;
}

/**
 * Whether the engine may read `url` for an image shown on `pageUrl`. It reads with the extension's
 * rights, so a web page could otherwise point a CSS background at file:///… and have a local file
 * read; only a page that is itself a local file may name local files.
 */
export function mayReadFor(pageUrl: string | undefined, url: string): boolean {
  return !/^file:/i.test(url) || /^file:/i.test(pageUrl ?? '');
}

const tooLarge = (size: string, maxBytes: number) => new SpotterError('too-large', `The image is too large (${size}; the limit is ${formatMB(maxBytes)}).`);
const tooSlow = (timeoutMs: number) =>
  new SpotterError('network', `The image took more than ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`} to download, so Spotter gave up.`);

/** "https://photos.example.co.uk/x.jpg" → "https://example.co.uk": the site cookies belong to (scheme and registrable domain). */
export function siteOf(url: string | undefined): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url ?? '');
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  // The public-suffix list (private part included), so a.github.io and b.github.io are different sites.
  return `${parsed.protocol}//${getDomain(parsed.hostname, { allowPrivateDomains: true }) ?? parsed.hostname}`;
}

/**
 * The user's cookies go with a download only to the site of the page that shows the image: a
 * logged-in page's own pictures still load, while a third-party image (a tracker's pixel, an ad,
 * a router's admin address a hostile page names) is fetched without them, as a browser that
 * blocks third-party cookies would.
 */
export function credentialsFor(url: string, pageUrl: string | undefined): RequestCredentials {
  const site = siteOf(url);
  return site !== null && site === siteOf(pageUrl) ? 'include' : 'omit';
}

async function fetchHttpOrData(url: string, credentials: RequestCredentials, maxBytes: number, timeoutMs: number): Promise<Blob> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const failure = () =>
    controller.signal.aborted ? tooSlow(timeoutMs) : new SpotterError('network', 'The image could not be downloaded (network error or blocked address).');
  try {
    let response: Response;
    try {
      response = await fetch(url, { credentials, cache: 'force-cache', signal: controller.signal });
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
function readFileUrl(url: string, maxBytes: number, timeoutMs: number): Promise<Blob> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('GET', url);
    request.responseType = 'blob';
    request.timeout = timeoutMs;
    request.ontimeout = () => reject(tooSlow(timeoutMs));
    // A huge local file (or /dev/zero) is given up as soon as it passes the limit, not once read.
    request.onprogress = (event) => {
      if (event.loaded <= maxBytes) return;
      request.abort();
      reject(tooLarge(`more than ${formatMB(maxBytes)}`, maxBytes));
    };
    request.onload = () => resolve(request.response as Blob);
    request.onerror = () =>
      reject(new SpotterError('network', 'The local file could not be read. In the browser\'s extension details, turn on "Allow access to file URLs" for Spotter.'));
    request.send();
  });
}
