/**
 * The flat-colour check (shared/flat-colour.ts) on generated pictures, read through a JS stand-in
 * for the canvas: it averages the source pixels under each drawn pixel, as a canvas shrinking with
 * imageSmoothingQuality 'high' does, and copies them at full size.
 */
import { describe, expect, it } from 'vitest';
import { looksFlat, type PixelArea, type PixelReader } from '../../src/shared/flat-colour';
import { seededRandom } from '../../src/engine/seeded-random';

interface Picture {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

function picture(width: number, height: number, colour: (x: number, y: number) => [number, number, number]): Picture {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rgba.set([...colour(x, y), 255], (y * width + x) * 4);
    }
  }
  return { width, height, rgba };
}

/** Box-averages each drawn pixel's share of the area (a 1:1 copy where the sizes match). */
function readerOf({ width, rgba }: Picture): PixelReader & { reads: { area: PixelArea; width: number; height: number }[] } {
  const reads: { area: PixelArea; width: number; height: number }[] = [];
  const read = (area: PixelArea, outWidth: number, outHeight: number) => {
    reads.push({ area, width: outWidth, height: outHeight });
    const out = new Uint8ClampedArray(outWidth * outHeight * 4);
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = area.x + Math.floor((ox * area.width) / outWidth);
        const x1 = area.x + Math.max(x0 - area.x + 1, Math.floor(((ox + 1) * area.width) / outWidth));
        const y0 = area.y + Math.floor((oy * area.height) / outHeight);
        const y1 = area.y + Math.max(y0 - area.y + 1, Math.floor(((oy + 1) * area.height) / outHeight));
        const sums = [0, 0, 0, 0];
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) for (let c = 0; c < 4; c++) sums[c]! += rgba[(y * width + x) * 4 + c]!;
        const n = (x1 - x0) * (y1 - y0);
        out.set(sums.map((sum) => Math.round(sum / n)), (oy * outWidth + ox) * 4);
      }
    }
    return out;
  };
  return Object.assign(read, { reads });
}

/** As the engine checks every decoded image (at most 1024 px by then). */
const ENGINE = { tolerance: 6, overviewSide: 64 };
/** As the content script checks canvas and video snapshots. */
const SNAPSHOT = { tolerance: 2, overviewSide: 16 };

const flat = (p: Picture, options = ENGINE) => looksFlat(p.width, p.height, readerOf(p), options);

describe('looksFlat', () => {
  it('calls random noise not flat, though shrinking averages it into an even grey', () => {
    const random = seededRandom(7);
    // Grain of +-20 around grey at 1024 px: a photo of noise 4000 px wide looks like this once decoded
    // to 1024 px (each pixel already the mean of about 16), and so does low-contrast film grain.
    const grain = picture(1024, 768, () => [0, 0, 0].map(() => 128 + Math.round((random() - 0.5) * 40)) as [number, number, number]);
    expect(flat(grain)).toBe(false);
    const noise = picture(1024, 768, () => [0, 0, 0].map(() => Math.floor(random() * 256)) as [number, number, number]);
    expect(flat(noise)).toBe(false);
    expect(flat(noise, SNAPSHOT)).toBe(false);
  });

  it('still calls one colour flat, with the few levels of noise JPEG leaves on it', () => {
    const random = seededRandom(11);
    expect(flat(picture(1024, 768, () => [40, 120, 200]))).toBe(true);
    expect(flat(picture(1024, 768, () => [40, 120, 200].map((c) => c + Math.round((random() - 0.5) * 6)) as [number, number, number]))).toBe(true);
    expect(flat(picture(300, 200, () => [255, 255, 255]), SNAPSHOT)).toBe(true);
    // Smaller than the overview and the patches: read as it is.
    expect(flat(picture(20, 16, () => [0, 0, 0]))).toBe(true);
  });

  it('does not call a picture with a thin line or a small shape flat', () => {
    expect(flat(picture(1024, 768, (x) => (x === 500 ? [0, 0, 0] : [255, 255, 255])))).toBe(false);
    expect(flat(picture(1024, 768, (x, y) => (Math.hypot(x - 900, y - 100) < 12 ? [200, 0, 0] : [255, 255, 255])))).toBe(false);
  });

  it('reads little: the overview and a few small patches, never the whole picture at full size', () => {
    const random = seededRandom(3);
    const pixel = (): [number, number, number] => [0, 0, 0].map(() => 128 + Math.round((random() - 0.5) * 4)) as [number, number, number];
    const reader = readerOf(picture(1024, 768, pixel));
    looksFlat(1024, 768, reader, ENGINE);
    const drawn = reader.reads.reduce((sum, read) => sum + read.width * read.height, 0);
    expect(drawn).toBeLessThanOrEqual(64 * 48 + 5 * 32 * 32);
  });
});
