/** The shared test photos (never committed: read from ../shared at test time) and a Node JPEG decoder. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import { SHARED } from '../../scripts/paths';

export const PHOTOS_DIR = path.join(SHARED, 'testdata/photos');
export const RETRAIN_DIR = path.join(SHARED, 'testdata/retrain');

export interface LabelledPhoto {
  file: string;
  path: string;
  /** A substring of the expected ImageNet class name. */
  expected: string;
}

export function labelledPhotos(): LabelledPhoto[] {
  const lines = readFileSync(path.join(PHOTOS_DIR, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [file, expected] = line.split(',');
    if (!file || !expected) throw new Error(`bad labels.csv line: ${line}`);
    return { file, path: path.join(PHOTOS_DIR, file), expected };
  });
}

/** Decodes a JPEG into a [h, w, 3] int32 tensor (the caller disposes it). */
export function decodeJpeg(file: string): tf.Tensor3D {
  const { width, height, data } = jpeg.decode(readFileSync(file), { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 512 });
  return tf.tensor3d(data, [height, width, 3], 'int32');
}
