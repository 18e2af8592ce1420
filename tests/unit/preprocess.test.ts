import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cropBox, MODEL_INPUT_SIZE, toModelInput } from '../../src/engine/preprocess';

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

describe('toModelInput', () => {
  // A 2x4 image whose left half is black and right half white.
  const halves = () => tf.tensor3d([0, 0, 255, 255, 0, 0, 255, 255].flatMap((v) => [v, v, v]), [2, 4, 3], 'int32');

  it('produces a 224x224 RGB float image in 0..255 and drops alpha', () => {
    const rgba = tf.fill([10, 20, 4], 200, 'int32') as tf.Tensor3D;
    const out = toModelInput(rgba, 'squash');
    expect(out.shape).toEqual([MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3]);
    expect(out.dtype).toBe('float32');
    const [min, max] = [out.min().dataSync()[0], out.max().dataSync()[0]];
    expect(min).toBeCloseTo(200);
    expect(max).toBeCloseTo(200);
    tf.dispose([rgba, out]);
  });

  it('squash sees both halves; center-crop sees the middle', async () => {
    const image = halves();
    const squashed = toModelInput(image, 'squash');
    const cropped = toModelInput(image, 'center-crop');
    const squashedRow = (await squashed.slice([112, 0, 0], [1, 224, 1]).data()) as Float32Array;
    expect(squashedRow[0]).toBeCloseTo(0);
    expect(squashedRow[223]).toBeCloseTo(255);
    const croppedMean = (await cropped.mean().data())[0]!;
    // The centred 2x2 square spans one black and one white column: about half grey on average.
    expect(croppedMean).toBeGreaterThan(60);
    expect(croppedMean).toBeLessThan(195);
    tf.dispose([image, squashed, cropped]);
  });

  it('center-crop keeps only the centred square of a wide image', async () => {
    // 300x100: red, green and blue thirds. The centred 100x100 square is the green third alone;
    // squash would show all three colours.
    const width = 300;
    const height = 100;
    const values = new Float32Array(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) values[(y * width + x) * 3 + Math.floor(x / 100)] = 255;
    const image = tf.tensor3d(values, [height, width, 3]);
    const cropped = toModelInput(image, 'center-crop');
    const squashed = toModelInput(image, 'squash');
    const channelMeans = async (t: tf.Tensor) => {
      const means = t.mean([0, 1]);
      const values = Array.from((await means.data()) as Float32Array);
      means.dispose();
      return values;
    };
    const [red, green, blue] = await channelMeans(cropped);
    expect(green).toBeGreaterThan(250);
    expect(red).toBeLessThan(5);
    expect(blue).toBeLessThan(5);
    for (const mean of await channelMeans(squashed)) expect(mean).toBeGreaterThan(70);
    tf.dispose([image, cropped, squashed]);
  });

  it('leaks no tensors', () => {
    const image = halves();
    const before = tf.memory().numTensors;
    tf.dispose(toModelInput(image, 'center-crop'));
    expect(tf.memory().numTensors).toBe(before);
    image.dispose();
  });
});
