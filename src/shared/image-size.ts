/**
 * The longest side an image is decoded at before it reaches the model. The model sees
 * 224 px; decoding a 6000 px photo at full size only costs memory, time and message size.
 */
export const MAX_DECODE_SIDE = 1024;

/** Size to decode an image at: never upscaled, longest side at most `maxSide`, aspect kept. */
export function decodeSize(width: number, height: number, maxSide = MAX_DECODE_SIDE): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
