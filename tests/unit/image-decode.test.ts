/** The decoder's header check: sizes read from real and crafted image headers (image-size). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_IMAGE_PIXELS, pixelCountProblem } from '../../src/engine/image-decode';
import { PHOTOS_DIR } from '../support/photos';

/** The first bytes of a PNG declaring width x height (signature + IHDR chunk). */
function pngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 6, 0, 0, 0], 24);
  return bytes;
}

describe('pixelCountProblem', () => {
  it('lets real photos through', () => {
    expect(pixelCountProblem(readFileSync(path.join(PHOTOS_DIR, 'imagenet_n02510455_giant_panda.jpg')))).toBeNull();
    expect(pixelCountProblem(pngHeader(10_000, 10_000))).toBeNull();
  });

  it('refuses a header that declares more than the limit, saying how big it is', () => {
    expect(MAX_IMAGE_PIXELS).toBe(100_000_000);
    expect(pixelCountProblem(pngHeader(30_000, 30_000))).toBe('The image is too large to decode (30000 x 30000 pixels; the limit is 100 megapixels).');
  });

  it('leaves bytes it cannot size to the decoder', () => {
    expect(pixelCountProblem(new TextEncoder().encode('hello, not an image'))).toBeNull();
    expect(pixelCountProblem(new Uint8Array(0))).toBeNull();
  });
});
