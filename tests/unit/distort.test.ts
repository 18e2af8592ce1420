import { describe, expect, it } from 'vitest';
import { distortionSeedOf, randomDistortions } from '../../src/engine/distort';

describe('randomDistortions', () => {
  it('gives boxes inside the image, 35-100 % of the centred square, aspect 3:4 to 4:3', () => {
    for (const [width, height] of [[640, 480], [300, 900], [500, 500]] as const) {
      const square = Math.min(width, height) ** 2;
      const distortions = randomDistortions(width, height, 50, 7);
      expect(distortions).toHaveLength(50);
      for (const { box, brightness } of distortions) {
        const [top, left, bottom, right] = box;
        expect(top).toBeGreaterThanOrEqual(0);
        expect(left).toBeGreaterThanOrEqual(0);
        expect(bottom).toBeLessThanOrEqual(1 + 1e-9);
        expect(right).toBeLessThanOrEqual(1 + 1e-9);
        const cropWidth = (right - left) * width;
        const cropHeight = (bottom - top) * height;
        const area = (cropWidth * cropHeight) / square;
        expect(area).toBeGreaterThan(0.35 - 1e-6);
        expect(area).toBeLessThanOrEqual(1 + 1e-6);
        expect(cropWidth / cropHeight).toBeGreaterThan(3 / 4 - 1e-6);
        expect(cropWidth / cropHeight).toBeLessThan(4 / 3 + 1e-6);
        expect(brightness).toBeGreaterThanOrEqual(0.8);
        expect(brightness).toBeLessThanOrEqual(1.2);
      }
    }
  });

  it('repeats for a seed, differs between seeds, and flips about half of the copies', () => {
    expect(randomDistortions(640, 480, 8, 1)).toEqual(randomDistortions(640, 480, 8, 1));
    expect(randomDistortions(640, 480, 8, 1)).not.toEqual(randomDistortions(640, 480, 8, 2));
    const flips = randomDistortions(640, 480, 200, 3).filter(({ flip }) => flip).length;
    expect(flips).toBeGreaterThan(70);
    expect(flips).toBeLessThan(130);
  });
});

describe('distortionSeedOf', () => {
  it("is the image's own: the same for equal embeddings, different for different ones", () => {
    const embedding = Float32Array.from({ length: 1280 }, (_, i) => (i % 7) * 0.25);
    const nudged = embedding.slice();
    nudged[640] = nudged[640]! + 1e-3;
    expect(distortionSeedOf(embedding.slice())).toBe(distortionSeedOf(embedding));
    expect(distortionSeedOf(nudged)).not.toBe(distortionSeedOf(embedding));
    // A view into a bigger buffer hashes only its own values.
    const padded = new Float32Array(1290);
    padded.set(embedding, 5);
    expect(distortionSeedOf(padded.subarray(5, 1285))).toBe(distortionSeedOf(embedding));
    expect(Number.isInteger(distortionSeedOf(embedding)) && distortionSeedOf(embedding) >= 0).toBe(true);
  });
});
