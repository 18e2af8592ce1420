/**
 * Whether RGBA pixels are all within `tolerance` of the first pixel, in every channel: a blank,
 * solid or undrawn picture with nothing in it to recognise. Alpha counts too, so that shapes drawn
 * on a transparent canvas are not taken for blank; decoded images, already on white, have none.
 * Used by the content script (canvas and video snapshots) and the engine (every decoded image).
 */
export function isFlat(pixels: Uint8ClampedArray, tolerance: number): boolean {
  for (let i = 4; i < pixels.length; i++) {
    if (Math.abs(pixels[i]! - pixels[i % 4]!) > tolerance) return false;
  }
  return true;
}

export interface PixelArea {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** RGBA pixels of `area` of a picture, drawn at `width` x `height` (averaged where that is smaller). */
export type PixelReader = (area: PixelArea, width: number, height: number) => Uint8ClampedArray;

/** Side of the full-size patches looksFlat reads. */
const PATCH_SIDE = 32;

/** Five patches of up to PATCH_SIDE px, 1:1: at the centre and the centres of the four quarters. */
function patchesOf(width: number, height: number): PixelArea[] {
  const w = Math.min(PATCH_SIDE, width);
  const h = Math.min(PATCH_SIDE, height);
  const at = (fx: number, fy: number): PixelArea => ({ x: Math.round(fx * (width - w)), y: Math.round(fy * (height - h)), width: w, height: h });
  return [at(0.5, 0.5), at(0.25, 0.25), at(0.75, 0.25), at(0.25, 0.75), at(0.75, 0.75)];
}

/**
 * Whether a picture of `width` x `height` is one flat colour, by two looks. Its whole shrunk to at
 * most `overviewSide` px, averaged: cheap, and a one-pixel line across it still shifts its cells.
 * And a few small patches at full size: averaging alone turns random noise or grain into an even
 * grey, which a patch shows it is not.
 */
export function looksFlat(width: number, height: number, read: PixelReader, { tolerance, overviewSide }: { tolerance: number; overviewSide: number }): boolean {
  const scale = Math.min(1, overviewSide / Math.max(width, height));
  const overview = read({ x: 0, y: 0, width, height }, Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)));
  if (!isFlat(overview, tolerance)) return false;
  // Flat also means the same colour in every patch as in the overview: its first pixel leads each patch.
  const first = overview.subarray(0, 4);
  return patchesOf(width, height).every((area) => {
    const patch = read(area, area.width, area.height);
    const joined = new Uint8ClampedArray(patch.length + 4);
    joined.set(first);
    joined.set(patch, 4);
    return isFlat(joined, tolerance);
  });
}
