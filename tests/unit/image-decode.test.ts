/** The decoder's checks that need no browser: header sizes (image-size), SVG shapes, flat colour. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_IMAGE_PIXELS, pixelCountProblem, viewBoxAspect } from '../../src/engine/image-decode';
import { isFlat } from '../../src/shared/flat-colour';
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

describe('viewBoxAspect', () => {
  it("reads the shape of an SVG that has only a viewBox (Firefox gives it no natural size)", () => {
    expect(viewBoxAspect('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 30"><rect/></svg>')).toBeCloseTo(4 / 3);
    expect(viewBoxAspect("<svg viewBox='-5,-5 , 10 20'>")).toBeCloseTo(0.5);
  });

  it('says null without a usable viewBox on the root element', () => {
    expect(viewBoxAspect('<svg width="10"><symbol viewBox="0 0 4 3"/></svg>')).toBeNull();
    expect(viewBoxAspect('<svg viewBox="0 0 0 30">')).toBeNull();
    expect(viewBoxAspect('not svg')).toBeNull();
  });
});

describe('isFlat (tolerance 6, as the engine checks decoded images)', () => {
  const rgba = (...pixels: [number, number, number][]) => Uint8ClampedArray.from(pixels.flatMap(([r, g, b]) => [r, g, b, 255]));

  it('counts JPEG noise on one colour as flat', () => {
    expect(isFlat(rgba([40, 120, 200], [43, 118, 205], [40, 126, 200]), 6)).toBe(true);
  });

  it('does not count a picture with any real detail as flat', () => {
    expect(isFlat(rgba([255, 255, 255], [255, 255, 255], [245, 255, 255]), 6)).toBe(false);
    expect(isFlat(rgba([0, 0, 0], [0, 0, 0], [0, 0, 30]), 6)).toBe(false);
  });

  it('does not count shapes on a transparent canvas as flat (alpha differs, colour does not)', () => {
    expect(isFlat(Uint8ClampedArray.from([0, 0, 0, 0, 0, 0, 0, 255]), 6)).toBe(false);
  });
});
