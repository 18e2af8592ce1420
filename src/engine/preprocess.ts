import * as tf from '@tensorflow/tfjs';

/** MobileNet v2's input side, in pixels. */
export const MODEL_INPUT_SIZE = 224;

/**
 * How an image of any shape becomes the model's square input.
 * - 'squash': the whole image, stretched to a square (nothing is cut off).
 * - 'center-crop': the largest centred square, then scaled (no distortion, loses the edges).
 * Centre-crop is the default, by measurement (`npm run bench` re-measures it):
 * docs/decisions/fit-mode-and-resampling.md.
 */
export type FitMode = 'squash' | 'center-crop';
export const FIT_MODES: readonly FitMode[] = ['squash', 'center-crop'];
export const DEFAULT_FIT_MODE: FitMode = 'center-crop';

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

/**
 * Each view resized to 224x224 RGB: [n, 224, 224, 3] values, still 0..255. The same bilinear
 * sampling as tf.image.cropAndResize (TF.js's CPU kernel, arithmetic included), done here in
 * plain JS so that nothing image-sized reaches TF.js: on WebGL every new image size compiled new
 * shader programs (pixel upload, cast, slice, crop) and kept them for good; now the GPU only ever
 * sees 224x224 batches. Alpha is dropped (image-decode.ts has put transparent images on white).
 */
export function resizedViews(pixels: PixelGrid, views: readonly ModelView[]): Float32Array {
  const side = MODEL_INPUT_SIZE;
  const { width, height, channels, data } = pixels;
  const output = new Float32Array(views.length * side * side * 3);
  // Per output column: the two source columns' offsets and the weight between them (-1: outside).
  const left = new Int32Array(side);
  const right = new Int32Array(side);
  const xLerp = new Float64Array(side);
  views.forEach(({ box, flip = false, brightness = 1 }, index) => {
    // Box corners are float32 in a TF.js tensor: round them the same way.
    const [y1, x1, y2, x2] = box.map(Math.fround) as CropBox;
    const heightScale = ((y2 - y1) * (height - 1)) / (side - 1);
    const widthScale = ((x2 - x1) * (width - 1)) / (side - 1);
    for (let x = 0; x < side; x++) {
      const xIndex = onEdge(x1 * (width - 1) + x * widthScale, width - 1);
      const inside = xIndex >= 0 && xIndex <= width - 1;
      left[x] = inside ? Math.floor(xIndex) * channels : -1;
      right[x] = inside ? Math.ceil(xIndex) * channels : -1;
      xLerp[x] = xIndex - Math.floor(xIndex);
    }
    const viewStart = index * side * side * 3;
    for (let y = 0; y < side; y++) {
      const yIndex = onEdge(y1 * (height - 1) + y * heightScale, height - 1);
      // Rows outside the image stay 0, as cropAndResize's default extrapolation value.
      if (yIndex < 0 || yIndex > height - 1) continue;
      const top = Math.floor(yIndex) * width * channels;
      const bottom = Math.ceil(yIndex) * width * channels;
      const yLerp = yIndex - Math.floor(yIndex);
      for (let x = 0; x < side; x++) {
        if (left[x]! < 0) continue;
        const outX = flip ? side - 1 - x : x;
        const out = viewStart + (y * side + outX) * 3;
        for (let c = 0; c < 3; c++) {
          const topLeft = data[top + left[x]! + c]!;
          const topRight = data[top + right[x]! + c]!;
          const bottomLeft = data[bottom + left[x]! + c]!;
          const bottomRight = data[bottom + right[x]! + c]!;
          const upper = topLeft + (topRight - topLeft) * xLerp[x]!;
          const lower = bottomLeft + (bottomRight - bottomLeft) * xLerp[x]!;
          const value = upper + (lower - upper) * yLerp;
          output[out + c] = brightness === 1 ? value : Math.min(255, Math.max(0, Math.fround(value) * brightness));
        }
      }
    }
  });
  return output;
}

/**
 * A sample position a rounding error past the last pixel row or column is on it. Without this,
 * the last output row of a 640x480 photo (and of 221 other sizes from 16 to 4096 px; TF.js's
 * cropAndResize has the same quirk) fell "outside" and stayed black.
 */
function onEdge(index: number, last: number): number {
  return index > last && index - last < 1e-6 * Math.max(1, last) ? last : index;
}

/** The views as the model's input batch: [n, 224, 224, 3] in the [-1, 1] range this MobileNet expects. */
export function modelBatch(pixels: PixelGrid, views: readonly ModelView[]): tf.Tensor4D {
  return tf.tidy(() => toModelRange(tf.tensor4d(resizedViews(pixels, views), [views.length, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3])));
}

/** 0..255 pixels to the [-1, 1] range this MobileNet expects (as mobilenet.infer() does for it). */
export function toModelRange<T extends tf.Tensor>(pixels: T): T {
  return tf.tidy(() => tf.sub(tf.mul(pixels, 2 / 255), 1));
}
