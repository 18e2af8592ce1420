/** Recognising an image by its first bytes (blob: URLs made without a type; files the browser cannot decode). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageTypeOf, looksLikeWebPage, undecodableMessage } from '../../src/shared/image-type';
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

describe('undecodableMessage: why bytes the browser could not decode are no picture', () => {
  it('calls a file that starts like an image damaged, whatever the server said', () => {
    const cutShort = readFileSync(path.join(PHOTOS_DIR, 'imagenet_n04398044_teapot.jpg')).subarray(0, 4000);
    expect(undecodableMessage(cutShort, 'image/jpeg', 'https://example.com/a.jpg')).toBe('This JPEG image is damaged or incomplete, so it cannot be decoded.');
    expect(undecodableMessage(bytes(0x89, 'PNG', 0x0d, 0x0a), '', 'https://example.com/a')).toMatch(/^This PNG image is damaged/);
  });

  it('recognises a web page served as an image (an error or sign-in page)', () => {
    const page = bytes(0xef, 0xbb, 0xbf, '  \n<!DOCTYPE html><html><body>Please sign in'); // UTF-8 byte-order mark first
    expect(looksLikeWebPage(page)).toBe(true);
    expect(undecodableMessage(page, 'image/png', 'https://example.com/a.png')).toBe(
      'This address gives a web page, not an image (the server says it is image/png): perhaps an error or sign-in page.',
    );
    expect(looksLikeWebPage(bytes('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe(false);
    expect(looksLikeWebPage(bytes('GIF89a'))).toBe(false);
  });

  it('says who claimed the type: the server, the data: URL or the file name', () => {
    const text = bytes('hello world');
    expect(undecodableMessage(text, 'image/png', 'https://example.com/a.png')).toBe('This file is not an image Spotter can read (the server says it is image/png).');
    expect(undecodableMessage(text, 'image/png', 'data:image/png;base64,aGVsbG8=')).toBe('This file is not an image Spotter can read (its data: URL says it is image/png).');
    expect(undecodableMessage(text, 'image/png', 'file:///home/me/a.png')).toBe('This file is not an image Spotter can read (its file name says it is image/png).');
    expect(undecodableMessage(text, '', 'https://example.com/a')).toBe('This file is not an image Spotter can read.');
  });
});
