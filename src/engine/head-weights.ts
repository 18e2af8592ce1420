/**
 * Checks a head's weight values before TF.js sees them. One NaN or infinite weight makes every
 * prediction NaN, which no answer can carry: every classification would fail until the model is
 * forgotten. No TF.js here (types only), so the popup's export can use it too.
 */
import type * as tf from '@tensorflow/tfjs';

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Whether a float16's bits are infinity or NaN (all exponent bits set). */
const isFloat16NonFinite = (bits: number) => (bits & 0x7c00) === 0x7c00;

/**
 * Why the weights in `data`, laid out as `specs` say (TF.js's weights manifest: one after the
 * other, little-endian), are not all finite numbers, or do not fill `data` exactly; null when they are.
 */
export function weightValuesProblem(specs: readonly tf.io.WeightsManifestEntry[], data: ArrayBuffer): string | null {
  // Stored data is checked with this too: nothing about its form is taken for granted.
  if (!Array.isArray(specs)) return 'it has no weight specs';
  if (Object.prototype.toString.call(data) !== '[object ArrayBuffer]') return 'its weight data is not an ArrayBuffer';
  const view = new DataView(data);
  let offset = 0;
  for (const spec of specs as unknown[]) {
    if (typeof spec !== 'object' || spec === null) return `weight spec ${JSON.stringify(spec)} is malformed`;
    const { name, shape, dtype, quantization } = spec as Partial<tf.io.WeightsManifestEntry>;
    const stored = quantization?.dtype ?? dtype ?? '';
    const bytes = BYTES_PER_VALUE[stored];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || bytes === undefined) return `weight spec ${JSON.stringify(spec)} is malformed`;
    const count = shape.reduce((size, d) => size * d, 1);
    if (offset + count * bytes > data.byteLength) return `its weights are truncated (${data.byteLength} bytes, the specs describe more)`;
    const bad = (index: number, value: string) => `its weight "${name}" holds a value that is not a finite number (${value}, value ${index + 1} of ${count})`;
    if (quantization) {
      // Stored as integers (or float16), read as min + scale x value: min and scale must be numbers, and the largest value must stay finite.
      const { min = 0, scale = 1 } = quantization;
      if (typeof min !== 'number' || typeof scale !== 'number') return `its weight "${name}" has a quantization that is not finite numbers`;
      if (!Number.isFinite(min) || !Number.isFinite(scale) || !Number.isFinite(min + scale * 2 ** (8 * bytes))) return `its weight "${name}" has a quantization that is not finite numbers`;
      if (stored === 'float16') {
        for (let i = 0; i < count; i++) if (isFloat16NonFinite(view.getUint16(offset + 2 * i, true))) return bad(i, 'float16 infinity or NaN');
      }
    } else if (stored === 'float32') {
      for (let i = 0; i < count; i++) {
        const value = view.getFloat32(offset + 4 * i, true);
        if (!Number.isFinite(value)) return bad(i, String(value));
      }
    }
    offset += count * bytes;
  }
  if (offset < data.byteLength) return `its weights have ${data.byteLength - offset} bytes more than the specs describe`;
  return null;
}
