import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCutShort } from '../../src/engine/image-completeness';
import { animatedGif, png } from '../e2e/support/encoders';
import { PHOTOS_DIR, RETRAIN_DIR } from '../support/photos';

/** Every JPEG among the shared photos: cameras' and encoders' files of many kinds (EXIF thumbnails, progressive, restart markers). */
function sharedJpegs(): { name: string; bytes: Uint8Array }[] {
  const files = readdirSync(PHOTOS_DIR).filter((f) => f.endsWith('.jpg')).map((f) => path.join(PHOTOS_DIR, f));
  for (const set of ['flower_photos', 'hymenoptera'])
    for (const label of readdirSync(path.join(RETRAIN_DIR, set), { withFileTypes: true }).filter((d) => d.isDirectory()))
      files.push(...readdirSync(path.join(RETRAIN_DIR, set, label.name)).filter((f) => f.endsWith('.jpg')).map((f) => path.join(RETRAIN_DIR, set, label.name, f)));
  return files.map((file) => ({ name: path.basename(file), bytes: new Uint8Array(readFileSync(file)) }));
}

/** isCutShort on the bytes as a file. */
const cutShort = (bytes: Uint8Array) => isCutShort(new Blob([bytes.slice()]));

describe('isCutShort', () => {
  const jpegs = sharedJpegs();

  it('finds every shared JPEG complete, also with data after its end (a Motion Photo video, padding)', async () => {
    expect(jpegs.length).toBeGreaterThan(100);
    for (const { name, bytes } of jpegs) {
      expect(await cutShort(bytes), name).toBe(false);
      const padded = new Uint8Array(bytes.length + 5000);
      padded.set(bytes);
      padded.fill(0xff, bytes.length, bytes.length + 10);
      expect(await cutShort(padded), `${name} with trailing bytes`).toBe(false);
    }
  });

  it('finds every shared JPEG cut short when its end is missing, wherever it was cut', async () => {
    for (const { name, bytes } of jpegs) {
      for (const share of [0.05, 0.5, 0.9]) expect(await cutShort(bytes.subarray(0, Math.floor(bytes.length * share))), `${name} cut at ${share}`).toBe(true);
      expect(await cutShort(bytes.subarray(0, bytes.length - 2)), `${name} without its end marker`).toBe(true);
    }
  });

  it('checks PNG by its IEND chunk and GIF by its trailer', async () => {
    const image = new Uint8Array(png(64, 48, (x, y) => [x * 4, y * 5, 100]));
    expect(await cutShort(image)).toBe(false);
    expect(await cutShort(image.subarray(0, image.length - 1))).toBe(true);
    expect(await cutShort(image.subarray(0, 60))).toBe(true);
    const gif = new Uint8Array(animatedGif(16, 16, [[0, 0, 0], [255, 255, 255]], [(x) => x % 2]));
    expect(await cutShort(gif)).toBe(false);
    expect(await cutShort(gif.subarray(0, gif.length - 1))).toBe(true);
  });

  it("checks WebP against RIFF's length field", async () => {
    const webp = new Uint8Array(40);
    webp.set([...'RIFF'].map((c) => c.charCodeAt(0)), 0);
    new DataView(webp.buffer).setUint32(4, 32, true);
    webp.set([...'WEBPVP8 '].map((c) => c.charCodeAt(0)), 8);
    expect(await cutShort(webp)).toBe(false);
    expect(await cutShort(webp.subarray(0, 39))).toBe(true);
  });

  it('cannot tell for formats without an end mark, and says false', async () => {
    expect(await cutShort(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"'))).toBe(false);
    expect(await cutShort(new Uint8Array([0x42, 0x4d, 1, 2, 3]))).toBe(false);
  });
});
