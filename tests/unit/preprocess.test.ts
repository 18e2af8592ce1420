import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cropBox, fittedView, MODEL_INPUT_SIZE, modelBatch, pixelGridOf, resizedViews, type CropBox, type PixelGrid } from '../../src/engine/preprocess';
import { MODELS } from '../../src/shared/models';
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
      { box: [0, 0.75, 1, 1], brightness: 1.5 },
    ]);
    expect(batch).toHaveLength(3 * side * side * 3);
    const at = (index: number, x: number) => batch[((index * side + 100) * side + x) * 3]!;
    expect(at(0, 0)).toBeCloseTo(10);
    expect(at(0, 223)).toBeCloseTo(200);
    expect(at(1, 0)).toBeCloseTo(200);
    expect(at(1, 223)).toBeCloseTo(10);
    // The bright right part alone (the box's left edge at x = 0.75 * (3 - 1) = 1.5, the middle of the bright pixel 1), 1.5x brighter: 300, clipped to 255.
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

  it('shrinks by averaging every pixel under each output pixel: fine stripes read as their mean grey, not as whichever stripe a sample hits', () => {
    // 1-pixel black and white columns at 1000 px: each output pixel covers ~4.5 of them. A point
    // sample (bilinear at the output centres) reads 0 or 255 in places; the area average ~127.5 everywhere.
    const [width, height] = [1000, 750];
    const values = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x += 2) values.fill(255, (y * width + x) * 3, (y * width + x) * 3 + 3);
    const out = resizedViews({ width, height, channels: 3, data: values }, [fittedView(width, height, 'squash')]);
    let [low, high] = [255, 0];
    for (const value of out) [low, high] = [Math.min(low, value), Math.max(high, value)];
    expect(low).toBeGreaterThan(100);
    expect(high).toBeLessThan(155);
  });

  it('keeps the mean of the region it shrinks (weights sum to 1, no pixel counted twice or left out)', () => {
    const random = seededRandom(11);
    for (const [width, height, channels] of [[1000, 700, 3], [640, 480, 4], [301, 977, 3]] as const) {
      const data = Uint8Array.from({ length: width * height * channels }, () => Math.floor(random() * 256));
      const out = resizedViews({ width, height, channels, data }, [fittedView(width, height, 'squash')]);
      let [ours, theirs] = [0, 0];
      for (let i = 0; i < out.length; i += 3) ours += out[i]!;
      for (let i = 0; i < data.length; i += channels) theirs += data[i]!;
      expect(ours / (out.length / 3), `${width}x${height}`).toBeCloseTo(theirs / (width * height), 1);
    }
  });

  it('enlarges by interpolating between pixel centres (bilinear)', () => {
    // 2 pixels, 0 and 224, across 224 outputs: output x sits at source (x + 0.5) * 2/224 - 0.5, clamped to [0, 1].
    const ramp: PixelGrid = { width: 2, height: 1, channels: 3, data: Uint8Array.from([0, 0, 0, 224, 224, 224]) };
    const out = resizedViews(ramp, [{ box: [0, 0, 1, 1] }]);
    const at = (x: number) => out[(100 * side + x) * 3]!;
    expect(at(0)).toBe(0);
    expect(at(223)).toBe(224);
    expect(at(112)).toBeCloseTo(224 * ((112.5 * 2) / 224 - 0.5), 3);
    for (let x = 1; x < side; x++) expect(at(x)).toBeGreaterThanOrEqual(at(x - 1));
  });

  it('mirrors and brightens a shrunk view as the plain view, flipped and scaled', () => {
    const random = seededRandom(5);
    const [width, height] = [500, 400];
    const data = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256));
    const grid: PixelGrid = { width, height, channels: 3, data };
    const box: CropBox = [0.1, 0.2, 0.8, 0.9];
    const [plain, mirrored] = [resizedViews(grid, [{ box }]), resizedViews(grid, [{ box, flip: true, brightness: 0.5 }])];
    for (const [y, x] of [[0, 0], [17, 200], [223, 223]] as const) {
      for (let c = 0; c < 3; c++) expect(mirrored[(y * side + (side - 1 - x)) * 3 + c]).toBeCloseTo(plain[(y * side + x) * 3 + c]! * 0.5, 3);
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
  it("normalises 0..255 as each model expects in a [n, 224, 224, 3] batch and leaks no tensors", async () => {
    const white = gridOf(Array.from({ length: 4 * 4 * 3 }, () => 255), 4, 4, 3);
    // v2: [-1, 1]; EdgeTPU: (pixel - 128) / 127, so 255 -> 1 and 0 -> -1.008.
    for (const [id, whiteValue, blackValue] of [['mobilenet-v2', 1, -1], ['mobilenet-edgetpu', 1, -128 / 127]] as const) {
      const before = tf.memory().numTensors;
      const batch = modelBatch(white, [fittedView(4, 4, 'squash'), { box: [0, 0, 1, 1], brightness: 0 }], MODELS[id]);
      expect(batch.shape).toEqual([2, side, side, 3]);
      const values = await batch.data();
      expect(values[0], id).toBeCloseTo(whiteValue, 5);
      expect(values[values.length - 1], id).toBeCloseTo(blackValue, 5);
      batch.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
