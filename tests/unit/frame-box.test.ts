/** Where a framed page shows in the page holding it, when its frame element is scaled (content/frame-box.ts). */
import { describe, expect, it } from 'vitest';
import { frameBoxOf, isUpright, placedIn } from '../../src/content/frame-box';

const style = (transform = 'none', rest: Partial<Record<'rotate' | 'scale' | 'offsetPath', string>> = {}) => ({ transform, rotate: 'none', scale: 'none', offsetPath: 'none', ...rest });

describe('isUpright', () => {
  it('lets moves and scales through, each axis its own, also in 3D and by the scale property', () => {
    expect(isUpright(style())).toBe(true);
    expect(isUpright(style('matrix(0.75, 0, 0, 0.6, 12, -4)'))).toBe(true);
    expect(isUpright(style('matrix3d(0.5, 0, 0, 0, 0, 0.8, 0, 0, 0, 0, 1, 0, 10, 20, 30, 1)'))).toBe(true);
    expect(isUpright(style('none', { scale: '0.75' }))).toBe(true);
    expect(isUpright(style('none', { scale: '0.5 0.8 2' }))).toBe(true);
    expect(isUpright(style('none', { rotate: '0deg' }))).toBe(true);
  });

  it('refuses rotation, skew, mirroring and 3D turns, whichever property brings them', () => {
    expect(isUpright(style('matrix(6.12323e-17, 1, -1, 6.12323e-17, 0, 0)'))).toBe(false); // rotate(90deg)
    expect(isUpright(style('matrix(1, 0, 0.57735, 1, 0, 0)'))).toBe(false); // skewX(30deg)
    expect(isUpright(style('matrix(-1, 0, 0, 1, 0, 0)'))).toBe(false); // scaleX(-1)
    expect(isUpright(style('matrix3d(0.866025, 0, -0.5, 0, 0, 1, 0, 0, 0.5, 0, 0.866025, 0, 0, 0, 0, 1)'))).toBe(false); // rotateY(30deg)
    expect(isUpright(style('none', { rotate: '45deg' }))).toBe(false);
    expect(isUpright(style('none', { rotate: '0 1 0 45deg' }))).toBe(false);
    expect(isUpright(style('none', { scale: '1 -1' }))).toBe(false);
    expect(isUpright(style('none', { offsetPath: 'path("M0 0 L100 100")' }))).toBe(false);
  });
});

/** A frame element as a browser describes it: its box as drawn, and its computed style (borders and padding as laid out). */
function frameElement(drawn: { left: number; top: number; width: number; height: number }, border: number, padding: number, transform = 'none') {
  const computed = { ...style(transform), borderLeftWidth: `${border}px`, borderRightWidth: `${border}px`, borderTopWidth: `${border}px`, borderBottomWidth: `${border}px`, paddingLeft: `${padding}px`, paddingRight: `${padding}px`, paddingTop: `${padding}px`, paddingBottom: `${padding}px` };
  const element = { getBoundingClientRect: () => drawn, assignedSlot: null, parentElement: null, parentNode: null, ownerDocument: { defaultView: { getComputedStyle: () => computed } } };
  return element as unknown as Element;
}

// Measured in Chromium 156 and Firefox 153 (both the same): an iframe 300 × 200 with a 3px border and 5px
// padding, and a box at (40, 30) of its page, found on a screenshot of the page.
describe('frameBoxOf', () => {
  it('scales the content box, border and padding included, by a transform with any origin', () => {
    // transform: scale(0.5, 0.8); transform-origin: 0 0: the box showed from (114, 50 or 51), 50 × 47 or 48.
    const box = frameBoxOf(frameElement({ left: 90, top: 20, width: 158, height: 172.8 }, 3, 5, 'matrix(0.5, 0, 0, 0.8, 0, 0)'), { width: 300, height: 200 })!;
    expect(box.scaleX).toBeCloseTo(0.5);
    expect(box.scaleY).toBeCloseTo(0.8);
    const area = placedIn({ left: 40, top: 30, width: 100, height: 60 }, box);
    expect(area.left).toBeCloseTo(114);
    expect(area.top).toBeCloseTo(50.4);
    expect(area.width).toBeCloseTo(50);
    expect(area.height).toBeCloseTo(48);
  });

  it('scales by zoom, whose border the browser snaps to device pixels (3px at zoom 1.5 computes as 2.66667px)', () => {
    // zoom: 1.5 on the frame element: the box showed at (192, 77), 150 × 90.
    const box = frameBoxOf(frameElement({ left: 120, top: 20, width: 473, height: 323 }, 2.66667, 5), { width: 300, height: 200 })!;
    const area = placedIn({ left: 40, top: 30, width: 100, height: 60 }, box);
    expect(area.left).toBeCloseTo(191.5, 0);
    expect(area.top).toBeCloseTo(76.5, 0);
    expect(area.width).toBeCloseTo(150, 0);
    expect(area.height).toBeCloseTo(90, 0);
  });

  it('cuts an area to the frame: what the framed page scrolls out of its viewport is not shown', () => {
    const box = frameBoxOf(frameElement({ left: 90, top: 20, width: 158, height: 172.8 }, 3, 5, 'matrix(0.5, 0, 0, 0.8, 0, 0)'), { width: 300, height: 200 })!;
    // Half above the framed page's viewport, and running past its right edge.
    const area = placedIn({ left: 250, top: -30, width: 100, height: 60 }, box);
    expect(area.left).toBeCloseTo(box.left + 125);
    expect(area.top).toBeCloseTo(box.top);
    expect(area.width).toBeCloseTo(25); // the 50 px left of the edge, at half scale
    expect(area.height).toBeCloseTo(24); // the 30 px in view, at 0.8
    expect(placedIn({ left: 0, top: 300, width: 100, height: 60 }, box).height).toBe(0); // below the frame
  });

  it('moves by border and padding alone where nothing scales, and gives no box for a rotated frame', () => {
    const plain = frameBoxOf(frameElement({ left: 90, top: 20, width: 316, height: 216 }, 3, 5), { width: 300, height: 200 });
    expect(plain).toEqual({ left: 98, top: 28, width: 300, height: 200, scaleX: 1, scaleY: 1 });
    expect(frameBoxOf(frameElement({ left: 140, top: -30, width: 216, height: 316 }, 3, 5, 'matrix(0, 1, -1, 0, 0, 0)'), { width: 300, height: 200 })).toBeNull();
  });
});
