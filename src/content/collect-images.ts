/**
 * The page's images for the popup: <img> (currentSrc, so <picture>/srcset give the shown
 * source), CSS backgrounds, canvases and videos, in this document and same-origin iframes.
 * Only what is rendered at least 48 px on its shorter side, images only once loaded, and
 * each URL once. The popup asks again every few seconds, so lazy images join once they load.
 */
import type { PageImage } from '../shared/protocol';
import { asImageTarget, type ImageTarget } from './find-image';

export const MIN_RENDERED_SIDE = 48;
/** getComputedStyle on every element of a huge page would stall it; backgrounds past this are skipped. */
const MAX_ELEMENTS_SCANNED = 20_000;

export class PageImageRegistry {
  private readonly targets = new Map<string, ImageTarget>();
  /** An element keeps its id across collections, so the popup can ask again and add only what is new. */
  private readonly ids = new WeakMap<Element, string>();
  private nextId = 1;

  collect(root: Document = document): PageImage[] {
    this.targets.clear();
    const images: PageImage[] = [];
    const seenUrls = new Set<string>();
    const scan = (doc: Document) => {
      const elements = doc.body?.getElementsByTagName('*') ?? [];
      for (let i = 0; i < elements.length && i < MAX_ELEMENTS_SCANNED; i++) {
        const element = elements[i]!;
        if (element.localName === 'iframe') {
          const inner = sameOriginDocument(element as HTMLIFrameElement);
          if (inner) scan(inner);
          continue;
        }
        const image = this.describe(element);
        if (!image || seenUrls.has(image.url)) continue;
        seenUrls.add(image.url);
        images.push(image);
      }
    };
    scan(root);
    return images;
  }

  get(imageId: string): ImageTarget | undefined {
    return this.targets.get(imageId);
  }

  private describe(element: Element): PageImage | null {
    const rect = element.getBoundingClientRect();
    if (Math.min(rect.width, rect.height) < MIN_RENDERED_SIDE) return null;
    if (element.localName === 'img' && !((element as HTMLImageElement).complete && (element as HTMLImageElement).naturalWidth > 0)) return null; // not loaded (yet)
    const target = asImageTarget(element);
    if (!target) return null;
    let imageId = this.ids.get(element);
    if (!imageId) {
      imageId = String(this.nextId++);
      this.ids.set(element, imageId);
    }
    this.targets.set(imageId, target);
    const url = target.kind === 'img' || target.kind === 'background' ? target.url : target.kind === 'video' && target.element.currentSrc ? target.element.currentSrc : `${target.kind}:${imageId}`;
    return { imageId, kind: target.kind, url, width: Math.round(rect.width), height: Math.round(rect.height) };
  }
}

function sameOriginDocument(frame: HTMLIFrameElement): Document | null {
  try {
    return frame.contentDocument;
  } catch {
    return null; // cross-origin: its own content script serves it
  }
}
