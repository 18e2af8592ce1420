/** Recognising an image by its first bytes (for blob: URLs made without a type). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageTypeOf } from '../../src/content/read-pixels';
import { PHOTOS_DIR } from '../support/photos';

const bytes = (...values: (number | string)[]) => Uint8Array.from(values.flatMap((v) => (typeof v === 'string' ? [...v].map((c) => c.charCodeAt(0)) : [v])));

describe('imageTypeOf', () => {
  it('knows a real JPEG from the shared photos', () => {
    expect(imageTypeOf(readFileSync(path.join(PHOTOS_DIR, 'imagenet_n04398044_teapot.jpg')).subarray(0, 16))).toBe('image/jpeg');
  });

  it.each([
    [bytes(0x89, 'PNG', 0x0d, 0x0a, 0x1a, 0x0a), 'image/png'],
    [bytes('GIF89a'), 'image/gif'],
    [bytes('RIFF', 0, 0, 0, 0, 'WEBPVP8 '), 'image/webp'],
    [bytes('BM', 0, 0), 'image/bmp'],
    [bytes(0, 0, 0, 0x1c, 'ftypavif'), 'image/avif'],
  ])('knows %s', (head, type) => {
    expect(imageTypeOf(head)).toBe(type);
  });

  it('says null for anything else', () => {
    expect(imageTypeOf(bytes('<!doctype html>'))).toBeNull();
    expect(imageTypeOf(bytes('RIFF', 0, 0, 0, 0, 'WAVE'))).toBeNull();
    expect(imageTypeOf(new Uint8Array(0))).toBeNull();
  });
});
