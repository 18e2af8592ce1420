import { describe, expect, it } from 'vitest';
import { backgroundImageUrl } from '../../src/content/find-image';
import { countOf, formatAccuracy, formatMs, formatPercent } from '../../src/shared/format';
import { decodeSize } from '../../src/shared/image-size';

describe('formatPercent', () => {
  it('reads like "giant panda 100 %"', () => {
    expect(formatPercent(0.9999)).toBe('100 %');
    expect(formatPercent(0.425)).toBe('43 %');
    expect(formatPercent(0.004)).toBe('<1 %');
    expect(formatPercent(Number.NaN)).toBe('–');
  });
  it('says 0 % for an accuracy of none right, and – where nothing was measured', () => {
    expect(formatAccuracy(0)).toBe('0 %');
    expect(formatAccuracy(0.5)).toBe('50 %');
    expect(formatAccuracy(1)).toBe('100 %');
    expect(formatAccuracy(undefined)).toBe('–');
  });
  it('counts in the singular for one ("1 example in 1 label"), in the plural otherwise', () => {
    expect(`${countOf(1, 'example')} in ${countOf(1, 'label')}`).toBe('1 example in 1 label');
    expect(countOf(0, 'example')).toBe('0 examples');
    expect(countOf(12, 'held-out example')).toBe('12 held-out examples');
  });
  it('formats durations', () => {
    expect(formatMs(35.4)).toBe('35 ms');
    expect(formatMs(1530)).toBe('1.5 s');
  });
});

describe('decodeSize', () => {
  it('caps the longest side at 1024 and keeps the aspect ratio', () => {
    expect(decodeSize(4000, 3000)).toEqual({ width: 1024, height: 768 });
    expect(decodeSize(300, 6000)).toEqual({ width: 51, height: 1024 });
  });
  it('never upscales', () => {
    expect(decodeSize(320, 240)).toEqual({ width: 320, height: 240 });
  });
});

describe('backgroundImageUrl', () => {
  it('finds the first url() in computed background-image values', () => {
    expect(backgroundImageUrl('url("http://127.0.0.1/a.jpg")')).toBe('http://127.0.0.1/a.jpg');
    expect(backgroundImageUrl("url('b.png')")).toBe('b.png');
    expect(backgroundImageUrl('url(c.png)')).toBe('c.png');
    expect(backgroundImageUrl('linear-gradient(red, blue), url("d \\"q\\".jpg")')).toBe('d "q".jpg');
  });
  it('returns null when there is no image', () => {
    expect(backgroundImageUrl('none')).toBeNull();
    expect(backgroundImageUrl('linear-gradient(red, blue)')).toBeNull();
  });
});
