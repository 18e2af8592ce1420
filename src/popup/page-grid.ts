/** The page grid's bookkeeping, kept apart from the view so that it can be tested in Node. */
import type { PageImage } from '../shared/protocol';

/** The document the grid shows: the key its image ids start with (collect-images.ts), once it had images, and the tab's address. */
export interface ShownDocument {
  key: string | null;
  address: string | null;
}

/** The document key that starts every image id ("k3x9a-12" → "k3x9a"); null when nothing was found. */
export function documentKeyOf(found: readonly PageImage[]): string | null {
  return found[0]?.imageId.split('-')[0] ?? null;
}

const withoutFragment = (address: string) => address.split('#')[0]!;

/**
 * Whether a look at the tab found another document than the one the grid shows. The image ids say
 * so when there are images; a page without any gives no ids, so then the tab's address (a jump to
 * a fragment is no navigation) decides.
 */
export function isAnotherDocument(shown: ShownDocument | null, found: readonly PageImage[], address: string | null): boolean {
  if (!shown) return false;
  const key = documentKeyOf(found);
  if (key !== null) return shown.key !== null && key !== shown.key;
  return address !== null && shown.address !== null && withoutFragment(address) !== withoutFragment(shown.address);
}

/** What the grid shows after a look at the tab. */
export function nextShownDocument(shown: ShownDocument | null, found: readonly PageImage[], address: string | null): ShownDocument {
  const another = isAnotherDocument(shown, found, address);
  return { key: documentKeyOf(found) ?? (another ? null : (shown?.key ?? null)), address: address ?? (another ? null : (shown?.address ?? null)) };
}

/** How many of the grid's images have an answer: cards of images no longer listed (the page before a navigation) do not count. */
export function finishedCount(images: readonly PageImage[] | null, cards: Readonly<Record<string, { status: string }>>): number {
  return (images ?? []).filter((image) => (cards[image.imageId]?.status ?? 'pending') !== 'pending').length;
}
