import { SpotterError } from '../shared/errors';
import { MAX_IMAGE_BYTES, MAX_IMAGE_URL_LENGTH, type ImageSource, type ScreenArea } from '../shared/protocol';
import { decodeSize } from '../shared/image-size';
import { looksFlat } from '../shared/flat-colour';
import { asImageBlob, readAsDataUrl } from './data-url';
import { frameBoxOf, placedIn, TURNED_FRAME, type FrameArea } from './frame-box';
import type { ImageTarget } from './find-image';
import { drawingDataUrl } from './svg-drawing';

/**
 * Turns what was clicked into an ImageSource the engine host can read. URLs go as they are
 * (the engine host fetches them with the extension's permissions); pixels that only the page
 * can reach (canvas, the current video frame, blob: URLs, inline SVG) are copied out here.
 */
export async function toImageSource(target: ImageTarget): Promise<ImageSource> {
  switch (target.kind) {
    case 'img':
    case 'background':
      return urlSource(target.url);
    case 'canvas':
      return { url: snapshot(target.element, target.element.width, target.element.height, 'canvas') };
    case 'video':
      if (target.element.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || target.element.videoWidth === 0) {
        throw new SpotterError('unreadable', 'The video has no frame to show yet. Play it, then try again.');
      }
      return { url: snapshot(target.element, target.element.videoWidth, target.element.videoHeight, 'video') };
    case 'svg':
      return { url: await drawingDataUrl(target.element) };
  }
}

async function urlSource(url: string): Promise<ImageSource> {
  if (url.startsWith('blob:')) return { url: await blobUrlToDataUrl(url) };
  if (url.startsWith('data:') && !/^data:image\//i.test(url)) {
    throw new SpotterError('not-image', 'This data: URL does not hold an image.');
  }
  // Said here: past this the request itself would be refused as malformed.
  if (url.startsWith('data:') && url.length > MAX_IMAGE_URL_LENGTH) throw new SpotterError('too-large', 'The image is too large (over 32 MB).');
  if (!/^(https?:|file:|data:)/i.test(url)) throw new SpotterError('unreadable', `Spotter cannot read images from ${url.split(':')[0]}: addresses.`);
  return { url };
}

/** blob: URLs belong to the page's origin, so only the content script can read them. */
async function blobUrlToDataUrl(url: string): Promise<string> {
  let blob: Blob;
  try {
    blob = await (await fetch(url)).blob();
  } catch {
    throw new SpotterError('network', 'This blob: image is no longer available (the page has released it).');
  }
  if (blob.size > MAX_IMAGE_BYTES) throw new SpotterError('too-large', 'The image is too large (over 32 MB).');
  const image = await asImageBlob(blob);
  if (!image) throw new SpotterError('not-image', `This blob: URL does not hold an image${blob.type ? ` (${blob.type})` : ''}.`);
  return readAsDataUrl(image).catch(() => {
    throw new SpotterError('unreadable', 'This blob: image could not be read.');
  });
}

/**
 * The page lets no one copy these pixels (another site's picture or video, or WebGL's cleared
 * buffer reads back blank), though the screen shows them: a right-click reads them from the screen.
 */
export class UncopyablePixels extends SpotterError {
  constructor(message: string) {
    super('unreadable', message);
  }
}

/**
 * Where the element shows on the screen, in CSS px of the top frame's viewport; null where that
 * cannot be known (a frame inside another site's page cannot see where it sits). Throws where a
 * frame on the way is rotated, skewed or mirrored.
 */
export function screenAreaOf(element: Element): ScreenArea | null {
  const { left, top, width, height } = element.getBoundingClientRect();
  let area: FrameArea = { left, top, width, height };
  let view: Window | null = element.ownerDocument.defaultView;
  try {
    while (view && view !== view.top) {
      const frame = view.frameElement;
      if (!frame) return null; // cross-origin parent
      const frameBox = frameBoxOf(frame, { width: view.innerWidth, height: view.innerHeight });
      if (!frameBox) throw new SpotterError('unreadable', TURNED_FRAME);
      area = placedIn(area, frameBox);
      view = view.parent;
    }
  } catch (error) {
    if (error instanceof SpotterError) throw error;
    return null;
  }
  if (!view) return null;
  return { ...area, viewportWidth: view.innerWidth };
}

/** Copies the pixels of a canvas or the current video frame, scaled to at most 1024 px. */
function snapshot(source: HTMLCanvasElement | HTMLVideoElement, width: number, height: number, what: 'canvas' | 'video'): string {
  if (width === 0 || height === 0) throw new SpotterError('no-image', `This ${what} is empty.`);
  const size = decodeSize(width, height);
  const copy = document.createElement('canvas');
  copy.width = size.width;
  copy.height = size.height;
  let dataUrl: string;
  let flat: boolean;
  try {
    copy.getContext('2d')?.drawImage(source, 0, 0, size.width, size.height);
    dataUrl = copy.toDataURL('image/png');
    // Firefox lets a content script's toDataURL through here but refuses the pixel check below.
    flat = isBlankSnapshot(copy);
  } catch (error) {
    if (!(error instanceof Error && error.name === 'SecurityError')) throw error;
    throw new UncopyablePixels(
      what === 'canvas'
        ? 'This canvas cannot be read: the page drew an image from another site on it.'
        : 'This video comes from another site that does not allow reading its frames.',
    );
  }
  if (flat) {
    throw new UncopyablePixels(
      what === 'canvas'
        ? 'This canvas is blank to Spotter (one flat colour): nothing to classify. Pages that draw with WebGL may not let their pixels be copied.'
        : 'This video frame is blank to Spotter (one flat colour): nothing to classify. Protected videos do not let their frames be copied.',
    );
  }
  return dataUrl;
}

/** Whether a snapshot is one flat colour, as an undrawn canvas, a cleared WebGL buffer or a protected video frame copy out. */
function isBlankSnapshot(canvas: HTMLCanvasElement): boolean {
  const probe = document.createElement('canvas');
  const context = probe.getContext('2d', { willReadFrequently: true });
  if (!context) return false;
  return looksFlat(
    canvas.width,
    canvas.height,
    (area, width, height) => {
      probe.width = width;
      probe.height = height;
      context.drawImage(canvas, area.x, area.y, area.width, area.height, 0, 0, width, height);
      return context.getImageData(0, 0, width, height).data;
    },
    { tolerance: 2, overviewSide: 16 },
  );
}
