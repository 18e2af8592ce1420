import { imageTypeOf } from '../shared/image-type';

/**
 * Whether an image file stops before its format's end: a download cut off, a file half-written.
 * Browsers still show (and Spotter still reads) the part that arrived, so the labels are for a
 * partial picture: the user is told. Checks the formats whose end is marked (JPEG, PNG, GIF,
 * WebP); for others (BMP, AVIF, SVG) it cannot tell and says false. Reads the whole file only
 * where the format needs it (JPEG, PNG).
 */
export async function isCutShort(file: Blob): Promise<boolean> {
  const head = await bytesOf(file.slice(0, 16));
  switch (imageTypeOf(head)) {
    case 'image/jpeg':
      return !jpegReachesEnd(await bytesOf(file));
    case 'image/png':
      return !pngReachesEnd(await bytesOf(file));
    case 'image/gif':
      // The trailer byte; anything after it is rare in GIFs.
      return (await bytesOf(file.slice(-1)))[0] !== 0x3b;
    case 'image/webp':
      // RIFF's own length field counts the bytes after the first 8.
      return file.size < 8 + new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(4, true);
    default:
      return false;
  }
}

async function bytesOf(blob: Blob): Promise<Uint8Array> {
  return new Uint8Array(await blob.arrayBuffer());
}

/**
 * Walks JPEG's marker segments (each with its length) and the entropy-coded data after every
 * start-of-scan (where 0xFF is followed by 0x00 or a restart marker) until end-of-image.
 * Data after the end marker (a Motion Photo's video, padding) does not matter; an EXIF
 * thumbnail's own end marker sits inside a segment and is skipped with it.
 */
function jpegReachesEnd(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 2;
  while (at + 1 < bytes.length) {
    if (bytes[at] !== 0xff) return false;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd9) return true;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // markers without a length
      continue;
    }
    if (at + 3 >= bytes.length) return false;
    at += 2 + view.getUint16(at + 2);
    if (marker === 0xda) at = endOfEntropyData(bytes, at);
  }
  return false;
}

/** Where the entropy-coded data starting at `from` ends: the next marker, or the end of the bytes. */
function endOfEntropyData(bytes: Uint8Array, from: number): number {
  let at = from;
  for (;;) {
    at = bytes.indexOf(0xff, at);
    if (at < 0 || at + 1 >= bytes.length) return bytes.length;
    const next = bytes[at + 1]!;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) at += 2;
    else if (next === 0xff) at += 1;
    else return at;
  }
}

/** Hops from chunk to chunk (length, type, data, CRC) until IEND. */
function pngReachesEnd(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at);
    const isEnd = bytes[at + 4] === 0x49 && bytes[at + 5] === 0x45 && bytes[at + 6] === 0x4e && bytes[at + 7] === 0x44; // "IEND"
    at += 12 + length;
    if (isEnd) return at <= bytes.length;
  }
  return false;
}
