/** The popup page grid's bookkeeping (src/popup/page-grid.ts): the progress count. (Navigations: retrain e2e, "open views follow what changes".) */
import { describe, expect, it } from 'vitest';
import { finishedCount } from '../../src/popup/page-grid';

const image = (imageId: string) => ({ imageId });

describe('page grid', () => {
  it('counts only the answers for images the grid lists, never more than there are', () => {
    const images = [image('bbb-1'), image('bbb-2')];
    // Answers for the page before the navigation ("aaa-…") arrived after the grid started over.
    const cards = { 'aaa-1': { status: 'done' }, 'aaa-2': { status: 'error' }, 'aaa-3': { status: 'done' }, 'bbb-1': { status: 'done' }, 'bbb-2': { status: 'pending' } };
    expect(finishedCount(images, cards)).toBe(1);
    expect(finishedCount(null, cards)).toBe(0);
  });
});
