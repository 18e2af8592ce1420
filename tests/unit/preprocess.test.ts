import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cropBox, fittedView, MODEL_INPUT_SIZE, modelBatch, pixelGridOf, resizedViews, type CropBox, type PixelGrid } from '../../src/engine/preprocess';
import { seededRandom } from '../../src/engine/seeded-random';

describe('cropBox', () => {
  it('squash keeps the whole image', () => {
    expect(cropBox(1024, 768, 'squash')).toEqual([0, 0, 1, 1]);
    expect(cropBox(100, 900, 'squash')).toEqual([0, 0, 1, 1]);
  });

  it('center-crop takes the largest centred square (never the top-left corner)', () => {
    const [y1, x1, y2, x2] = cropBox(400, 200, 'center-crop');
    expect([y1, y2]).toEqual([0, 1]);
    expect(x1).toBeCloseTo(0.25);
    expect(x2).toBeCloseTo(0.75);
    const tall = cropBox(300, 600, 'center-crop');
    expect(tall[0]).toBeCloseTo(0.25);
    expect(tall[2]).toBeCloseTo(0.75);
    expect([tall[1], tall[3]]).toEqual([0, 1]);
    expect(cropBox(500, 500, 'center-crop')).toEqual([0, 0, 1, 1]);
  });

  it('refuses an image without pixels', () => {
    expect(() => cropBox(0, 10, 'squash')).toThrow(RangeError);
  });
});

/** Pixels of a [h, w, c] int tensor, as pixelGridOf reads them. */
function gridOf(values: number[], height: number, width: number, channels: 3 | 4): PixelGrid {
  return { width, height, channels, data: Uint8Array.from(values) };
}

/** One view's mean per channel, from resizedViews' [224, 224, 3] values. */
function channelMeans(view: Float32Array): number[] {
  const sums = [0, 0, 0];
  for (let i = 0; i < view.length; i++) sums[i % 3]! += view[i]!;
  return sums.map((sum) => sum / (view.length / 3));
}

const side = MODEL_INPUT_SIZE;

describe('resizedViews', () => {
  // A 2x4 image whose left half is black and right half white.
  const halves = () => gridOf([0, 0, 255, 255, 0, 0, 255, 255].flatMap((v) => [v, v, v]), 2, 4, 3);

  it('produces 224x224 RGB values in 0..255 and drops alpha', () => {
    const rgba = gridOf(Array.from({ length: 10 * 20 }, () => [200, 200, 200, 17]).flat(), 10, 20, 4);
    const out = resizedViews(rgba, [fittedView(20, 10, 'squash')]);
    expect(out).toHaveLength(side * side * 3);
    expect(out.reduce((min, v) => Math.min(min, v))).toBeCloseTo(200);
    expect(out.reduce((max, v) => Math.max(max, v))).toBeCloseTo(200);
  });

  it('squash sees both halves; center-crop sees the middle', () => {
    const squashed = resizedViews(halves(), [fittedView(4, 2, 'squash')]);
    const cropped = resizedViews(halves(), [fittedView(4, 2, 'center-crop')]);
    const row = 112 * side * 3;
    expect(squashed[row]).toBeCloseTo(0);
    expect(squashed[row + 223 * 3]).toBeCloseTo(255);
    // The centred 2x2 square spans one black and one white column: about half grey on average.
    const croppedMean = channelMeans(cropped)[0]!;
    expect(croppedMean).toBeGreaterThan(60);
    expect(croppedMean).toBeLessThan(195);
  });

  it('center-crop keeps only the centred square of a wide image', () => {
    // 300x100: red, green and blue thirds. The centred 100x100 square is the green third alone;
    // squash would show all three colours.
    const [width, height] = [300, 100];
    const values = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) values[(y * width + x) * 3 + Math.floor(x / 100)] = 255;
    const image: PixelGrid = { width, height, channels: 3, data: values };
    const [red, green, blue] = channelMeans(resizedViews(image, [fittedView(width, height, 'center-crop')]));
    expect(green).toBeGreaterThan(250);
    expect(red).toBeLessThan(5);
    expect(blue).toBeLessThan(5);
    for (const mean of channelMeans(resizedViews(image, [fittedView(width, height, 'squash')]))) expect(mean).toBeGreaterThan(70);
  });

  it('crops, mirrors and brightens each view, clipped to 0..255', () => {
    // A 3x2 RGBA image whose left column is dark and the two right columns bright.
    const row = [10, 10, 10, 255, 200, 200, 200, 255, 200, 200, 200, 255];
    const batch = resizedViews(gridOf([...row, ...row], 2, 3, 4), [
      { box: [0, 0, 1, 1] },
      { box: [0, 0, 1, 1], flip: true },
      { box: [0, 0.5, 1, 1], brightness: 1.5 },
    ]);
    expect(batch).toHaveLength(3 * side * side * 3);
    const at = (index: number, x: number) => batch[((index * side + 100) * side + x) * 3]!;
    expect(at(0, 0)).toBeCloseTo(10);
    expect(at(0, 223)).toBeCloseTo(200);
    expect(at(1, 0)).toBeCloseTo(200);
    expect(at(1, 223)).toBeCloseTo(10);
    // The bright right part alone (box coordinates run from the first to the last pixel centre), 1.5x brighter: 300, clipped to 255.
    expect(at(2, 0)).toBe(255);
  });

  it('samples the last row and column of the image too (no black edge from rounding)', () => {
    // 640x480 put the last row's sample a rounding error past the last pixel row: it stayed 0 (black).
    for (const [width, height] of [[640, 480], [300, 232], [1024, 459], [512, 512]] as const) {
      const white: PixelGrid = { width, height, channels: 3, data: new Uint8Array(width * height * 3).fill(255) };
      for (const mode of ['squash', 'center-crop'] as const) {
        const out = resizedViews(white, [fittedView(width, height, mode)]);
        expect(out.reduce((low, value) => Math.min(low, value), 255), `${width}x${height} ${mode}`).toBe(255);
      }
    }
  });

  it("matches TF.js's cropAndResize (+ reverse, multiply, clip) on random images, boxes, flips and brightness", () => {
    const random = seededRandom(11);
    for (const [width, height, channels] of [[37, 23, 3], [300, 200, 4], [17, 640, 4], [1024, 768, 3]] as const) {
      const values = Int32Array.from({ length: width * height * channels }, () => Math.floor(random() * 256));
      const views = Array.from({ length: 4 }, (_, index) => {
        const top = random() * 0.4;
        const left = random() * 0.4;
        const box: CropBox = index === 0 ? cropBox(width, height, 'center-crop') : [top, left, top + 0.3 + random() * 0.3, left + 0.3 + random() * 0.3];
        return { box, flip: index % 2 === 1, brightness: index === 0 ? 1 : 0.8 + random() * 0.4 };
      });
      const ours = resizedViews({ width, height, channels, data: values }, views);
      const theirs = tf.tidy(() => {
        const image = tf.tensor4d(values, [1, height, width, channels], 'int32').slice([0, 0, 0, 0], [1, height, width, 3]).toFloat();
        const crops = tf.image.cropAndResize(image, views.map(({ box }) => box), views.map(() => 0), [side, side], 'bilinear');
        const adjusted = views.map(({ flip, brightness }, index) => {
          const crop = tf.slice(crops, [index, 0, 0, 0], [1, -1, -1, -1]);
          return tf.mul(flip ? tf.reverse(crop, 2) : crop, brightness);
        });
        return tf.clipByValue(tf.concat(adjusted, 0), 0, 255).dataSync() as Float32Array;
      });
      let maxDiff = 0;
      for (let i = 0; i < theirs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
      expect(maxDiff, `${width}x${height}x${channels}`).toBeLessThan(1e-3);
    }
  });
});

describe('pixelGridOf', () => {
  it('reads RGB and RGBA tensors and raw RGBA pixels, and refuses an image without pixels', async () => {
    const rgb = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 2, 3], 'int32');
    expect(await pixelGridOf(rgb)).toMatchObject({ width: 2, height: 1, channels: 3 });
    expect(Array.from((await pixelGridOf(rgb)).data)).toEqual([1, 2, 3, 4, 5, 6]);
    const raw = { width: 1, height: 1, data: Uint8ClampedArray.from([9, 8, 7, 255]) };
    expect(await pixelGridOf(raw)).toEqual({ width: 1, height: 1, channels: 4, data: raw.data });
    // Raw pixels are RGBA unless they say otherwise.
    expect(await pixelGridOf({ width: 1, height: 1, channels: 3, data: [9, 8, 7] })).toEqual({ width: 1, height: 1, channels: 3, data: [9, 8, 7] });
    await expect(pixelGridOf({ width: 1, height: 1, data: [9, 8, 7] })).rejects.toThrow(/need more than 3 values/);
    await expect(pixelGridOf({ width: 0, height: 0, data: new Uint8ClampedArray(0) })).rejects.toThrow(/no pixels/);
    await expect(pixelGridOf({ width: 4, height: 4, data: new Uint8ClampedArray(8) })).rejects.toThrow(/need more than 8 values/);
    const grey = tf.zeros([2, 2, 1], 'int32') as tf.Tensor3D;
    await expect(pixelGridOf(grey)).rejects.toThrow(/RGB or RGBA/);
    tf.dispose([rgb, grey]);
  });
});

describe('modelBatch', () => {
  it('maps 0..255 to [-1, 1] in a [n, 224, 224, 3] batch and leaks no tensors', async () => {
    const white = gridOf(Array.from({ length: 4 * 4 * 3 }, () => 255), 4, 4, 3);
    const before = tf.memory().numTensors;
    const batch = modelBatch(white, [fittedView(4, 4, 'squash'), { box: [0, 0, 1, 1], brightness: 0 }]);
    expect(batch.shape).toEqual([2, side, side, 3]);
    const values = await batch.data();
    expect(values[0]).toBeCloseTo(1);
    expect(values[values.length - 1]).toBeCloseTo(-1);
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
