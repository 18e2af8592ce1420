import * as tf from '@tensorflow/tfjs';
import type { FitMode, ModelDescriptor } from '../shared/models';

export type { FitMode } from '../shared/models';

/** Both shipped backbones take 224 x 224 pixels; a view is resized to the descriptor's inputSize. */
export const MODEL_INPUT_SIZE = 224;

/**
 * How an image of any shape becomes the model's square input.
 * - 'squash': the whole image, stretched to a square (nothing is cut off).
 * - 'center-crop': the largest centred square, then scaled (no distortion, loses the edges).
 * Each backbone's descriptor names the one measured best for it (docs/decisions/fit-mode-and-resampling.md).
 */
export const FIT_MODES: readonly FitMode[] = ['squash', 'center-crop'];

/** A crop box in the normalised [y1, x1, y2, x2] form that tf.image.cropAndResize takes. */
export type CropBox = [number, number, number, number];

export function cropBox(width: number, height: number, mode: FitMode): CropBox {
  if (!(width > 0 && height > 0)) throw new RangeError(`image has no pixels (${width}x${height})`);
  if (mode === 'squash' || width === height) return [0, 0, 1, 1];
  if (width > height) {
    const margin = (1 - height / width) / 2;
    return [0, margin, 1, 1 - margin];
  }
  const margin = (1 - width / height) / 2;
  return [margin, 0, 1 - margin, 1];
}

/** An image's pixels in memory: rows top to bottom, 3 (RGB) or 4 (RGBA) values of 0..255 a pixel. */
export interface PixelGrid {
  width: number;
  height: number;
  channels: 3 | 4;
  data: ArrayLike<number>;
}

/** What the engine is given: a decoded bitmap, raw pixels (RGBA unless they say otherwise), or an [h, w, 3|4] tensor (which the caller still owns). */
export type PixelSource = tf.Tensor3D | ImageBitmap | { width: number; height: number; channels?: 3 | 4; data: ArrayLike<number> };

/** The pixels of any PixelSource. Bitmaps are read through a 2D canvas, as tf.browser.fromPixels reads them on WASM. */
export async function pixelGridOf(source: PixelSource): Promise<PixelGrid> {
  const [height, width, channels] = source instanceof tf.Tensor ? source.shape : [source.height, source.width, 'data' in source ? (source.channels ?? 4) : 4];
  if (!(width > 0 && height > 0)) throw new RangeError(`image has no pixels (${width}x${height})`);
  if (channels !== 3 && channels !== 4) throw new RangeError(`expected RGB or RGBA pixels, got ${channels} channels`);
  if (source instanceof tf.Tensor || 'data' in source) {
    const data = source instanceof tf.Tensor ? await source.data() : source.data;
    if (data.length < width * height * channels) throw new RangeError(`${width}x${height} pixels need more than ${data.length} values`);
    return { width, height, channels, data };
  }
  const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('no 2D canvas to read the image pixels');
  context.drawImage(source, 0, 0);
  return { width, height, channels, data: context.getImageData(0, 0, width, height).data };
}

/** One square view of an image for the model: a crop, optionally mirrored and brightened (distort.ts). */
export interface ModelView {
  box: CropBox;
  flip?: boolean;
  /** Pixel values are multiplied by this, then clipped to 0..255. */
  brightness?: number;
}

/** The view of the whole image (squash) or its centred square (center-crop). */
export function fittedView(width: number, height: number, mode: FitMode): ModelView {
  return { box: cropBox(width, height, mode) };
}

/** One axis of a resize: for each output index, the source indices it reads and their weights. */
interface Taps {
  first: Int32Array;
  count: Int32Array;
  /** count[j] weights per output index j, in order, summing to 1. */
  weights: Float32Array;
  maxCount: number;
}

/**
 * The taps that resize the span [a, b] of an axis of `length` pixels (a, b normalised, from the
 * first to the last pixel centre, as tf.image.cropAndResize reads a box) to `side` samples.
 * Shrinking averages every source pixel under an output pixel, weighted by how much of it lies
 * there (area averaging: no aliasing, so a photo of fine texture reads as the texture rather than
 * as whichever pixels a bilinear sample happens to hit); enlarging interpolates between the two
 * nearest pixel centres (bilinear).
 */
function tapsFor(length: number, a: number, b: number, side: number): Taps {
  // Edges in pixel units: the box [0, 1] covers the whole axis, [0, length).
  const start = a * (length - 1);
  const end = b * (length - 1) + 1;
  const step = (end - start) / side;
  const first = new Int32Array(side);
  const count = new Int32Array(side);
  const weights: number[] = [];
  let maxCount = 0;
  for (let j = 0; j < side; j++) {
    const before = weights.length;
    if (step > 1) {
      const low = start + j * step;
      const high = Math.min(length, low + step);
      const from = Math.max(0, Math.floor(low));
      let total = 0;
      for (let i = from; i < high && i < length; i++) {
        const weight = Math.min(high, i + 1) - Math.max(low, i);
        if (weight <= 0) continue;
        if (weights.length === before) first[j] = i;
        weights.push(weight);
        total += weight;
      }
      for (let k = before; k < weights.length; k++) weights[k]! /= total;
    } else {
      const centre = Math.min(length - 1, Math.max(0, start + (j + 0.5) * step - 0.5));
      const low = Math.floor(centre);
      const fraction = centre - low;
      first[j] = low;
      weights.push(1 - fraction);
      if (low + 1 < length) weights.push(fraction);
    }
    count[j] = weights.length - before;
    maxCount = Math.max(maxCount, count[j]!);
  }
  return { first, count, weights: Float32Array.from(weights), maxCount };
}

/**
 * Each view resized to side x side RGB: [n, side, side, 3] values, still 0..255. Separable:
 * each needed source row is resized across first, then the rows are combined down (tapsFor).
 * Done here in plain JS so that nothing image-sized reaches TF.js: on WebGL every new image size
 * compiled new shader programs (pixel upload, cast, slice, crop) and kept them for good; the GPU
 * only ever sees side x side batches. Alpha is dropped (image-decode.ts has put transparent images on white).
 */
export function resizedViews(pixels: PixelGrid, views: readonly ModelView[], side = MODEL_INPUT_SIZE): Float32Array {
  const { width, height, channels, data } = pixels;
  const output = new Float32Array(views.length * side * side * 3);
  views.forEach(({ box, flip = false, brightness = 1 }, index) => {
    const [y1, x1, y2, x2] = box;
    const across = tapsFor(width, x1, x2, side);
    const down = tapsFor(height, y1, y2, side);
    // The source rows the view reads, each resized across into `rows`.
    const firstRow = down.first[0]!;
    const lastRow = down.first[side - 1]! + down.count[side - 1]! - 1;
    const rows = new Float32Array((lastRow - firstRow + 1) * side * 3);
    for (let row = firstRow; row <= lastRow; row++) {
      const source = row * width * channels;
      const target = (row - firstRow) * side * 3;
      let tap = 0;
      for (let x = 0; x < side; x++) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = 0, column = across.first[x]!; k < across.count[x]!; k++, column++, tap++) {
          const weight = across.weights[tap]!;
          const at = source + column * channels;
          r += weight * data[at]!;
          g += weight * data[at + 1]!;
          b += weight * data[at + 2]!;
        }
        const out = target + (flip ? side - 1 - x : x) * 3;
        rows[out] = r;
        rows[out + 1] = g;
        rows[out + 2] = b;
      }
    }
    const viewStart = index * side * side * 3;
    let tap = 0;
    for (let y = 0; y < side; y++) {
      const out = viewStart + y * side * 3;
      const taps = down.count[y]!;
      const rowStart = (down.first[y]! - firstRow) * side * 3;
      for (let i = 0; i < side * 3; i++) {
        let value = 0;
        for (let k = 0; k < taps; k++) value += down.weights[tap + k]! * rows[rowStart + k * side * 3 + i]!;
        output[out + i] = brightness === 1 ? value : Math.min(255, Math.max(0, value * brightness));
      }
      tap += taps;
    }
  });
  return output;
}

/** The model's own normalisation of 0..255 pixels, and its input side. */
export type InputSpec = Pick<ModelDescriptor, 'inputSize' | 'normalisation'>;

/** The views as the model's input batch: [n, side, side, 3], normalised as the model expects. */
export function modelBatch(pixels: PixelGrid, views: readonly ModelView[], input: InputSpec): tf.Tensor4D {
  const side = input.inputSize;
  return tf.tidy(() => toModelRange(tf.tensor4d(resizedViews(pixels, views, side), [views.length, side, side, 3]), input));
}

/** 0..255 pixels to the model's input range: (pixel - offset) / scale. */
export function toModelRange<T extends tf.Tensor>(pixels: T, { normalisation: { offset, scale } }: InputSpec): T {
  return tf.tidy(() => tf.div(tf.sub(pixels, offset), scale));
}
