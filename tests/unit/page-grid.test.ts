/** The popup page grid's bookkeeping (src/popup/page-grid.ts): navigations and the progress count. */
import { describe, expect, it } from 'vitest';
import { finishedCount, isAnotherDocument, nextShownDocument, type ShownDocument } from '../../src/popup/page-grid';
import type { PageImage } from '../../src/shared/protocol';

const image = (imageId: string): PageImage => ({ imageId, kind: 'img', url: `https://example.com/${imageId}.jpg`, width: 100, height: 100 });

/** The grid's document after a run of looks at the tab, each with what it found and the tab's address. */
function follow(looks: [PageImage[], string][]): { shown: ShownDocument | null; restarts: number } {
  let shown: ShownDocument | null = null;
  let restarts = 0;
  for (const [found, address] of looks) {
    if (isAnotherDocument(shown, found, address)) restarts++;
    shown = nextShownDocument(shown, found, address);
  }
  return { shown, restarts };
}

describe('page grid', () => {
  it('starts over when the tab goes to a page without images', () => {
    expect(follow([[[image('aaa-1'), image('aaa-2')], 'https://example.com/photos'], [[], 'https://example.com/empty']]).restarts).toBe(1);
  });

  it('starts over when the image ids come from another document, also at the same address (a reload)', () => {
    expect(follow([[[image('aaa-1')], 'https://example.com/'], [[image('bbb-1')], 'https://example.com/']]).restarts).toBe(1);
  });

  it('does not start over for a jump to a fragment, a page still loading its images, or the same document at a new address', () => {
    expect(follow([[[image('aaa-1')], 'https://example.com/a'], [[], 'https://example.com/a#part']]).restarts).toBe(0);
    // A new page's first look finds nothing yet, then its images: one restart, not two.
    expect(follow([[[image('aaa-1')], 'https://example.com/a'], [[], 'https://example.com/b'], [[image('bbb-1')], 'https://example.com/b']]).restarts).toBe(1);
    // A script changed the address (history.pushState) and the images are the same document's.
    expect(follow([[[image('aaa-1')], 'https://example.com/a'], [[image('aaa-1'), image('aaa-2')], 'https://example.com/a?page=2']]).restarts).toBe(0);
  });

  it('counts only the answers for images the grid lists, never more than there are', () => {
    const images = [image('bbb-1'), image('bbb-2')];
    // Answers for the page before the navigation ("aaa-…") arrived after the grid started over.
    const cards = { 'aaa-1': { status: 'done' }, 'aaa-2': { status: 'error' }, 'aaa-3': { status: 'done' }, 'bbb-1': { status: 'done' }, 'bbb-2': { status: 'pending' } };
    expect(finishedCount(images, cards)).toBe(1);
    expect(finishedCount(null, cards)).toBe(0);
  });
});
