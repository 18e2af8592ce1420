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

const TOO_LARGE = (width: number, height: number) => `The image is too large to decode (${width} x ${height} pixels; the limit is 100 megapixels).`;
const PANDA = readFileSync(path.join(PHOTOS_DIR, 'imagenet_n02510455_giant_panda.jpg'));
/** Over 1 MB, the most the guard used to read. */
const PADDING = 1_100_000;

async function problemOf(bytes: Uint8Array): Promise<{ code: string; message: string } | null> {
  // As the engine calls it, on the downloaded Blob.
  const problem = await pixelCountProblem(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  return problem && { code: problem.code, message: problem.message };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((offset, part) => (joined.set(part, offset), offset + part.length), 0);
  return joined;
}
const u16be = (n: number) => [n >> 8, n & 0xff];
const u16le = (n: number) => [n & 0xff, n >> 8];
const u32be = (n: number) => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** `total` bytes of APP15 segments (at most 65535 bytes each, as JPEG allows): comments, EXIF or vendor data in a real file. */
function appSegments(total: number): Uint8Array {
  const segments: number[] = [];
  for (let left = total; left > 0; ) {
    const data = Math.min(65533, left);
    segments.push(0xff, 0xef, ...u16be(data + 2), ...new Array<number>(data).fill(0x41));
    left -= data;
  }
  return Uint8Array.from(segments);
}

/** The panda JPEG with `padding` after its SOI marker, its frame header saying width x height (its own size if not given). */
function paddedPanda(padding: Uint8Array, size?: { width: number; height: number }): Uint8Array {
  const jpeg = Uint8Array.from(PANDA);
  if (size) {
    const sof = jpeg.findIndex((byte, i) => byte === 0xff && jpeg[i + 1] === 0xc0);
    jpeg.set([...u16be(size.height), ...u16be(size.width)], sof + 5);
  }
  return concat(jpeg.subarray(0, 2), padding, jpeg.subarray(2));
}

/** A minimal JPEG header: SOI, a quantisation table, a frame header of this kind, then the start of a scan. */
const jpegOfFrame = (sof: number, width: number, height: number, before: number[] = []) =>
  Uint8Array.from([0xff, 0xd8, ...before, 0xff, 0xdb, ...u16be(67), 0, ...new Array<number>(64).fill(1), 0xff, sof, ...u16be(11), 8, ...u16be(height), ...u16be(width), 1, 1, 0x11, 0, 0xff, 0xda, ...u16be(8), 1, 1, 0, 0, 0x3f, 0]);

/** A GIF: a screen of 16 x 16, a comment of `comment` bytes, then a frame of width x height. */
function gif(width: number, height: number, comment: number): Uint8Array {
  const blocks: number[] = [0x21, 0xfe];
  for (let left = comment; left > 0; left -= 255) blocks.push(Math.min(255, left), ...new Array<number>(Math.min(255, left)).fill(0x20));
  blocks.push(0);
  return Uint8Array.from([...ascii('GIF89a'), ...u16le(16), ...u16le(16), 0, 0, 0, ...blocks, 0x2c, 0, 0, 0, 0, ...u16le(width), ...u16le(height), 0, 2, 2, 0x4c, 0x01, 0, 0x3b]);
}

/** Modernizr's 2 x 2 AVIF probe (as in bad-images.e2e.test.ts): ftyp, meta, mdat. */
const TINY_AVIF = Buffer.from(
  'AAAAIGZ0eXBhdmlmAAAAAGF2aWZtaWYxbWlhZk1BMUIAAADybWV0YQAAAAAAAAAoaGRscgAAAAAAAAAAcGljdAAAAAAAAAAAAAAAAGxpYmF2aWYAAAAADnBpdG0AAAAAAAEAAAAeaWxvYwAAAABEAAABAAEAAAABAAABGgAAAB0AAAAoaWluZgAAAAAAAQAAABppbmZlAgAAAAABAABhdjAxQ29sb3IAAAAAamlwcnAAAABLaXBjbwAAABRpc3BlAAAAAAAAAAIAAAACAAAAEHBpeGkAAAAAAwgICAAAAAxhdjFDgQ0MAAAAABNjb2xybmNseAACAAIAAYAAAAAXaXBtYQAAAAAAAAABAAEEAQKDBAAAACVtZGF0EgAKCBgANogQEAwgMg8f8D///8WfhwB8+ErK42A=',
  'base64',
);

/** The tiny AVIF with a `free` box of `padding` bytes before its meta box, which says width x height. */
function paddedAvif(padding: number, width: number, height: number): Uint8Array {
  const avif = Uint8Array.from(TINY_AVIF);
  const ispe = avif.findIndex((_, i) => String.fromCharCode(...avif.subarray(i, i + 4)) === 'ispe');
  avif.set([...u32be(width), ...u32be(height)], ispe + 8);
  const free = Uint8Array.from([...u32be(padding + 8), ...ascii('free'), ...new Array<number>(padding).fill(0)]);
  return concat(avif.subarray(0, 32), free, avif.subarray(32));
}

/** An icon file whose directory lists one 16 x 16 picture: a PNG of width x height, `at` bytes into the file. */
function icon(width: number, height: number, at: number): Uint8Array {
  const entry = [16, 16, 0, 0, ...u16le(1), ...u16le(32), ...[33, 0, 0, 0], at & 0xff, (at >> 8) & 0xff, (at >> 16) & 0xff, at >>> 24];
  const head = [0, 0, 1, 0, ...u16le(1), ...entry];
  return concat(Uint8Array.from(head), new Uint8Array(at - head.length), pngHeader(width, height));
}

describe('pixelCountProblem', () => {
  it('lets real photos through', async () => {
    expect(await problemOf(PANDA)).toBeNull();
    expect(await problemOf(pngHeader(10_000, 10_000))).toBeNull();
  });

  it('refuses a header that declares more than the limit, saying how big it is', async () => {
    expect(MAX_IMAGE_PIXELS).toBe(100_000_000);
    expect(await problemOf(pngHeader(30_000, 30_000))).toEqual({ code: 'too-large', message: TOO_LARGE(30_000, 30_000) });
  });

  it('leaves bytes of no format it knows to the decoder', async () => {
    expect(await problemOf(new TextEncoder().encode('hello, not an image'))).toBeNull();
    expect(await problemOf(new Uint8Array(0))).toBeNull();
  });

  it('finds a JPEG frame header after more than 1 MB of segments, or of junk bytes between them', async () => {
    expect(await problemOf(paddedPanda(appSegments(PADDING), { width: 10_500, height: 10_000 }))).toEqual({ code: 'too-large', message: TOO_LARGE(10_500, 10_000) });
    // Junk between segments (libjpeg skips it with a warning), after the JFIF segment so that the file still starts as a JPEG.
    const junk = concat(Uint8Array.from([0xff, 0xe0, ...u16be(16), ...ascii('JFIF'), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]), new Uint8Array(PADDING).fill(0x00), Uint8Array.from([0xff, 0xff, 0xff]));
    expect(await problemOf(paddedPanda(junk, { width: 12_000, height: 9_000 }))).toEqual({ code: 'too-large', message: TOO_LARGE(12_000, 9_000) });
    // 0xFF 0x00 is junk too, not a marker.
    expect(await problemOf(paddedPanda(concat(junk, Uint8Array.from([0xff, 0x00, 0x12])), { width: 12_000, height: 9_000 }))).toEqual({ code: 'too-large', message: TOO_LARGE(12_000, 9_000) });
    // The same padding before the photo's own frame header: still a photo.
    expect(await problemOf(paddedPanda(appSegments(PADDING)))).toBeNull();
    expect(await problemOf(paddedPanda(junk))).toBeNull();
  });

  it("reads every kind of JPEG frame header (progressive, arithmetic, lossless), not only baseline's", async () => {
    for (const sof of [0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]) {
      expect(await problemOf(jpegOfFrame(sof, 11_000, 10_000)), sof.toString(16)).toEqual({ code: 'too-large', message: TOO_LARGE(11_000, 10_000) });
      expect(await problemOf(jpegOfFrame(sof, 640, 480)), sof.toString(16)).toBeNull();
    }
    // A table (DHT) or an arithmetic-coding table (DAC) is no frame: the frame after it decides.
    expect(await problemOf(jpegOfFrame(0xc0, 20_000, 20_000, [0xff, 0xc4, ...u16be(4), 0, 0, 0xff, 0xcc, ...u16be(4), 0, 0]))).toEqual({ code: 'too-large', message: TOO_LARGE(20_000, 20_000) });
  });

  it('refuses a JPEG whose size cannot be found: there is no frame to decode safely', async () => {
    const damaged = { code: 'not-image', message: 'This JPEG image is damaged or incomplete, so it cannot be decoded.' };
    // A scan before any frame header, and a file that ends inside its padding.
    expect(await problemOf(Uint8Array.from([0xff, 0xd8, 0xff, 0xda, ...u16be(8), 1, 1, 0, 0, 0x3f, 0, 0xff, 0xd9]))).toEqual(damaged);
    expect(await problemOf(paddedPanda(appSegments(PADDING)).subarray(0, PADDING / 2))).toEqual(damaged);
    // A segment length under 2 cannot be walked past.
    expect(await problemOf(Uint8Array.from([0xff, 0xd8, 0xff, 0xe1, 0, 1, 0xff, 0xc0]))).toEqual(damaged);
  });

  it('walks a long file in few reads', async () => {
    // 8 MB of 0xFF 0x00: junk throughout, each pair a possible marker.
    const junk = concat(Uint8Array.from([0xff, 0xd8]), Uint8Array.from({ length: 8 * 1024 * 1024 }, (_, i) => (i % 2 ? 0x00 : 0xff)));
    let reads = 0;
    class CountingBlob extends Blob {
      override slice(start?: number, end?: number): Blob {
        reads++;
        return super.slice(start, end);
      }
    }
    expect((await pixelCountProblem(new CountingBlob([junk as Uint8Array<ArrayBuffer>])))?.code).toBe('not-image');
    expect(reads).toBeLessThanOrEqual(junk.length / (64 * 1024) + 4);
  });

  it("sizes a GIF by its first frame, past any number of extension blocks, where that is larger than its screen", async () => {
    expect(await problemOf(gif(12_000, 9_000, PADDING))).toEqual({ code: 'too-large', message: TOO_LARGE(12_000, 9_000) });
    expect(await problemOf(gif(640, 480, PADDING))).toBeNull();
    expect(await problemOf(gif(16, 16, 10))).toBeNull();
    // No frame at all: nothing to decode.
    expect(await problemOf(concat(gif(16, 16, 10).subarray(0, 27), Uint8Array.from([0x3b])))).toEqual({ code: 'not-image', message: 'This GIF image is damaged or incomplete, so it cannot be decoded.' });
  });

  it("finds an AVIF's meta box after more than 1 MB of other boxes", async () => {
    expect(await problemOf(TINY_AVIF)).toBeNull();
    expect(await problemOf(paddedAvif(PADDING, 20_000, 20_000))).toEqual({ code: 'too-large', message: TOO_LARGE(20_000, 20_000) });
    expect(await problemOf(paddedAvif(PADDING, 2, 2))).toBeNull();
  });

  it("sizes an icon file by its pictures' own headers, wherever they are, not by its directory", async () => {
    expect(await problemOf(icon(20_000, 20_000, PADDING))).toEqual({ code: 'too-large', message: TOO_LARGE(20_000, 20_000) });
    expect(await problemOf(icon(32, 32, 22))).toBeNull();
  });

  it('refuses a PNG, WebP or BMP without a readable header', async () => {
    expect(await problemOf(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]))).toEqual({ code: 'not-image', message: 'This PNG image is damaged or incomplete, so it cannot be decoded.' });
    expect(await problemOf(Uint8Array.from([...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WEBPJUNK')]))).toEqual({ code: 'not-image', message: 'This WebP image is damaged or incomplete, so it cannot be decoded.' });
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
