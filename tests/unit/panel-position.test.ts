import { describe, expect, it } from 'vitest';
import { PANEL_MARGIN, PANEL_WIDTH, panelPosition, type Rect } from '../../src/content/panel-position';

const viewport = { width: 1280, height: 800 };
const PANEL_HEIGHT = 150;
const box = (left: number, top: number, width: number, height: number): Rect => ({ left, top, right: left + width, bottom: top + height });
const overlaps = (image: Rect, panel: { left: number; top: number }) =>
  panel.left < image.right && panel.left + PANEL_WIDTH > image.left && panel.top < image.bottom && panel.top + PANEL_HEIGHT > image.top;
const onScreen = (panel: { left: number; top: number }) =>
  panel.left >= PANEL_MARGIN && panel.left + PANEL_WIDTH <= viewport.width - PANEL_MARGIN && panel.top >= PANEL_MARGIN && panel.top + PANEL_HEIGHT <= viewport.height - PANEL_MARGIN;

describe('panelPosition', () => {
  it("sits over a large image's top-left corner", () => {
    expect(panelPosition(box(100, 100, 600, 400), viewport, PANEL_HEIGHT)).toEqual({ left: 108, top: 108 });
  });

  it('goes beside an image smaller than itself, so the picture stays visible: right, or left at the right edge, or below / above', () => {
    const cases: [string, Rect, (p: { left: number; top: number }) => boolean][] = [
      ['middle of the page: right', box(400, 300, 80, 80), (p) => p.left === 488],
      ['bottom-right corner: left', box(1180, 700, 80, 80), (p) => p.left === 1180 - PANEL_MARGIN - PANEL_WIDTH],
      ['a wide strip across the page: below', box(20, 100, 1240, 60), (p) => p.top === 168],
      ['a wide strip at the bottom: above', box(20, 700, 1240, 60), (p) => p.top === 700 - PANEL_MARGIN - PANEL_HEIGHT],
    ];
    for (const [name, image, where] of cases) {
      const panel = panelPosition(image, viewport, PANEL_HEIGHT)!;
      expect(overlaps(image, panel), `${name}: ${JSON.stringify(panel)}`).toBe(false);
      expect(onScreen(panel), `${name}: ${JSON.stringify(panel)}`).toBe(true);
      expect(where(panel), `${name}: ${JSON.stringify(panel)}`).toBe(true);
    }
  });

  it('stays on screen for an image partly scrolled out, and is null for one out of view', () => {
    const panel = panelPosition(box(-300, -200, 700, 500), viewport, PANEL_HEIGHT)!;
    expect(onScreen(panel)).toBe(true);
    expect(panelPosition(box(0, -600, 400, 300), viewport, PANEL_HEIGHT)).toBeNull();
    expect(panelPosition(box(1300, 100, 400, 300), viewport, PANEL_HEIGHT)).toBeNull();
  });

  it('with no room anywhere (a tiny window), it covers the image rather than leave the screen', () => {
    const small = { width: 260, height: 180 };
    const image = box(10, 10, 240, 160);
    const panel = panelPosition(image, small, PANEL_HEIGHT)!;
    expect(overlaps(image, panel)).toBe(true);
    expect(panel.left >= PANEL_MARGIN && panel.left + PANEL_WIDTH <= small.width - PANEL_MARGIN, JSON.stringify(panel)).toBe(true);
    expect(panel.top >= PANEL_MARGIN && panel.top + PANEL_HEIGHT <= small.height - PANEL_MARGIN, JSON.stringify(panel)).toBe(true);
  });
});
