/**
 * Following a picture that the page re-renders (content/find-image.ts): the replacement is the
 * candidate showing the same picture most in its place, and none is taken from elsewhere.
 */
import { describe, expect, it } from 'vitest';
import { inSamePlace, overlapRatio, SAME_PLACE_OVERLAP } from '../../src/content/find-image';

const box = (left: number, top: number, width = 300, height = 200) => ({ left, top, width, height });

describe('overlapRatio', () => {
  it('is 1 for the same box, 0 for boxes apart or empty, and in between for a shift', () => {
    expect(overlapRatio(box(10, 10), box(10, 10))).toBe(1);
    expect(overlapRatio(box(10, 10), box(400, 10))).toBe(0);
    expect(overlapRatio(box(10, 10), box(10, 10, 0, 0))).toBe(0);
    // Shifted by a third of its width: 200 x 200 shared of 400 x 200.
    expect(overlapRatio(box(0, 0), box(100, 0))).toBeCloseTo(0.5);
  });
});

describe('inSamePlace', () => {
  const where = box(100, 50);

  it('takes the copy in the picture’s place, the best placed of several', () => {
    expect(inSamePlace(where, [{ item: 'elsewhere', box: box(600, 50) }, { item: 'copy', box: box(100, 50) }])).toBe('copy');
    expect(inSamePlace(where, [{ item: 'nudged', box: box(130, 60) }, { item: 'exact', box: box(100, 50) }])).toBe('exact');
    // A layout shift of a few pixels in the re-render still counts.
    expect(inSamePlace(where, [{ item: 'nudged', box: box(104, 58) }])).toBe('nudged');
  });

  it('takes nothing from elsewhere on the page, nor a copy not laid out yet (no size)', () => {
    expect(inSamePlace(where, [{ item: 'thumbnail', box: box(100, 50, 60, 40) }])).toBeNull();
    expect(inSamePlace(where, [{ item: 'below', box: box(100, 400) }])).toBeNull();
    expect(inSamePlace(where, [{ item: 'loading', box: box(100, 50, 0, 0) }])).toBeNull();
    expect(SAME_PLACE_OVERLAP).toBe(0.5);
  });
});
