import { fnv1a, seededRandom } from './seeded-random';
import { cropBox, type CropBox, type ModelView } from './preprocess';

/**
 * Training-time distortions, after TensorFlow for Poets' --random_crop / --random_scale /
 * --flip_left_right / --random_brightness: each labelled image is also embedded as a few randomly
 * distorted copies, and the head trains on those too. Classification still sees one plain view,
 * so this costs nothing per click. Why 8, and what they gain: docs/decisions/distorted-copies.md.
 */
export const DISTORTED_COPIES = 8;

/** A view of the image (preprocess.ts resizes it for the model) with every part chosen. */
export interface Distortion extends ModelView {
  /** Normalised [y1, x1, y2, x2] box in the original image. */
  box: CropBox;
  flip: boolean;
  /** Pixel values are multiplied by this (then clipped to 0..255). */
  brightness: number;
}

/** Crops cover 35–100 % of the centred square's area, with aspect ratios from 3:4 to 4:3. */
const MIN_AREA = 0.35;
const MAX_ASPECT = 4 / 3;
const BRIGHTNESS_RANGE = 0.2;

export function randomDistortions(width: number, height: number, count: number, seed = 1): Distortion[] {
  const [squareTop, squareLeft, squareBottom, squareRight] = cropBox(width, height, 'center-crop');
  const squareHeight = squareBottom - squareTop;
  const squareWidth = squareRight - squareLeft;
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const area = MIN_AREA + (1 - MIN_AREA) * random();
    const aspect = Math.exp((random() * 2 - 1) * Math.log(MAX_ASPECT));
    // Sides as fractions of the image, scaled from the centred square so the crop keeps its shape.
    const cropWidth = Math.min(1, Math.sqrt(area * aspect) * squareWidth);
    const cropHeight = Math.min(1, Math.sqrt(area / aspect) * squareHeight);
    const top = random() * (1 - cropHeight);
    const left = random() * (1 - cropWidth);
    return {
      box: [top, left, top + cropHeight, left + cropWidth],
      flip: random() < 0.5,
      brightness: 1 + (random() * 2 - 1) * BRIGHTNESS_RANGE,
    };
  });
}

/**
 * A seed of the image's own, taken from its embedding (FNV-1a over the float bits): the same image
 * always gets the same copies, and different images get different crops, flips and brightness.
 */
export function distortionSeedOf(embedding: Float32Array): number {
  return fnv1a(new Uint32Array(embedding.buffer, embedding.byteOffset, embedding.length));
}
