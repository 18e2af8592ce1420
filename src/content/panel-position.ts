/**
 * Where the overlay's result panel goes for an image, in viewport pixels. Over the image's
 * top-left corner when the panel fits inside it, so it reads as the image's own label; beside
 * the image (right, left, below, above: the first with room) when the image is smaller than the
 * panel, so the panel does not hide the picture it talks about. Always kept on screen.
 */

export interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export const PANEL_WIDTH = 240;
export const PANEL_MARGIN = 8;

/** null when the image has scrolled out of view. */
export function panelPosition(image: Rect, viewport: { width: number; height: number }, panelHeight: number): { left: number; top: number } | null {
  const { width, height } = viewport;
  const visible = image.bottom > 0 && image.right > 0 && image.top < height && image.left < width;
  if (!visible) return null;
  const m = PANEL_MARGIN;
  const onScreen = (left: number, top: number) => ({
    left: Math.min(Math.max(left, m), Math.max(m, width - PANEL_WIDTH - m)),
    top: Math.min(Math.max(top, m), Math.max(m, height - panelHeight - m)),
  });
  const fitsInside = image.right - image.left >= PANEL_WIDTH + 2 * m && image.bottom - image.top >= panelHeight + 2 * m;
  if (!fitsInside) {
    if (image.right + m + PANEL_WIDTH + m <= width) return onScreen(image.right + m, image.top);
    if (image.left - m - PANEL_WIDTH >= m) return onScreen(image.left - m - PANEL_WIDTH, image.top);
    if (image.bottom + m + panelHeight + m <= height) return onScreen(image.left, image.bottom + m);
    if (image.top - m - panelHeight >= m) return onScreen(image.left, image.top - m - panelHeight);
  }
  return onScreen(image.left + m, image.top + m);
}
