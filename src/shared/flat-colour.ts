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
