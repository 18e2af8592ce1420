/**
 * The page's images for the popup: <img> (currentSrc, so <picture>/srcset give the shown
 * source), CSS backgrounds (also of ::before / ::after boxes), canvases, inline SVG drawings and
 * videos, in this document, shadow roots (closed ones too: see shadow-roots.ts) and same-origin
 * iframes.
 * Only what is rendered at least 48 px on its shorter side, images only once loaded, and
 * each URL once. The popup asks again every few seconds, so lazy images join once they load.
 */
import type { PageImage } from '../shared/protocol';
import { asImageTarget, type ImageTarget } from './find-image';
import { shadowRootOf } from './shadow-roots';

export const MIN_RENDERED_SIDE = 48;
/** getComputedStyle on every element of a huge page would stall it: past this many, backgrounds are not looked for (media still are). */
const MAX_BACKGROUND_CHECKS = 20_000;
/**
 * Looking at ::before / ::after costs ~5 us an element in Chromium (100 ms more a collection on a
 * page of 20 000 large elements, asked every few seconds): past this many, only elements' own
 * backgrounds count.
 */
const MAX_PSEUDO_ELEMENT_CHECKS = 5_000;

/**
 * An element that keeps changing pictures (a slideshow) has an id per picture: its older ids still
 * mean their pictures, so that a card acts on what it shows, and a picture that comes back gets
 * its id back. Only for its latest few pictures, so that the registry does not grow for as long
 * as the page is open.
 */
export const IDS_KEPT_PER_ELEMENT = 8;

const isMedia = (element: Element) => element.localName === 'img' || element.localName === 'video' || element.localName === 'canvas' || element.localName === 'svg';

export class PageImageRegistry {
  /**
   * What each id showed when it was listed. Kept across collections, so an id the popup holds
   * keeps meaning the same picture; entries go when their element leaves the page.
   */
  private readonly targets = new Map<string, ImageTarget>();
  /**
   * Each element's ids by the URL shown, least recently shown first (at most IDS_KEPT_PER_ELEMENT):
   * an element keeps its id while it shows the same URL; a new URL (slideshow, srcset swap) is a new id.
   */
  private readonly ids = new WeakMap<Element, Map<string, string>>();
  /** Ids differ between documents, so a popup that outlives a navigation cannot mix up two pages' images. */
  readonly documentKey = Math.random().toString(36).slice(2, 8);
  private nextId = 1;

  collect(root: Document = document): PageImage[] {
    for (const [imageId, target] of this.targets) if (!target.element.isConnected) this.targets.delete(imageId);
    const images: PageImage[] = [];
    const seenUrls = new Set<string>();
    let backgroundChecks = 0;
    let pseudoElementChecks = 0;
    const scan = (root: Document | ShadowRoot) => {
      const elements = 'body' in root ? (root.body?.getElementsByTagName('*') ?? []) : root.querySelectorAll('*');
      for (let i = 0; i < elements.length; i++) {
        const element = elements[i]!;
        if (element.localName === 'iframe') {
          const inner = sameOriginDocument(element as HTMLIFrameElement);
          if (inner) scan(inner);
          continue;
        }
        // Web components keep their images in shadow roots.
        const shadowRoot = shadowRootOf(element);
        if (shadowRoot) scan(shadowRoot);
        const media = isMedia(element);
        if (!media && ++backgroundChecks > MAX_BACKGROUND_CHECKS) continue;
        const image = this.describe(element, () => !media && ++pseudoElementChecks <= MAX_PSEUDO_ELEMENT_CHECKS);
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

  /** mayCheckPseudoElements: asked only for elements large enough to be listed. */
  private describe(element: Element, mayCheckPseudoElements: () => boolean): PageImage | null {
    const rect = element.getBoundingClientRect();
    if (Math.min(rect.width, rect.height) < MIN_RENDERED_SIDE) return null;
    if (element.localName === 'img' && !((element as HTMLImageElement).complete && (element as HTMLImageElement).naturalWidth > 0)) return null; // not loaded (yet)
    const target = asImageTarget(element, mayCheckPseudoElements());
    if (!target) return null;
    const source = target.kind === 'img' || target.kind === 'background' ? target.url : target.kind === 'video' ? target.element.currentSrc : '';
    const shown = this.ids.get(element) ?? new Map<string, string>();
    this.ids.set(element, shown);
    const imageId = shown.get(source) ?? `${this.documentKey}-${this.nextId++}`;
    // Moved to the end: the most recently shown.
    shown.delete(source);
    shown.set(source, imageId);
    for (const [url, oldId] of shown) {
      if (shown.size <= IDS_KEPT_PER_ELEMENT) break;
      shown.delete(url);
      this.targets.delete(oldId);
    }
    this.targets.set(imageId, target);
    const url = source || `${target.kind}:${imageId}`;
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
