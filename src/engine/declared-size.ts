/**
 * The pixel size an image file declares, read wherever in the file it sits. Decoders allocate by
 * that size, so the guard against decompression bombs (image-decode.ts) must find the same size
 * the decoder will: a JPEG's frame header can follow megabytes of EXIF, comments or junk bytes,
 * a GIF's first frame any number of extension blocks, an AVIF's `meta` box a large `mdat`, and
 * an icon's pictures sit at any offset. Reading only the start of the file let such files through.
 */
import { imageSize } from 'image-size';
import { imageTypeOf } from '../shared/image-type';

/** Random access to the file's bytes (a Blob in the browser; bytes in tests). */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes from `offset` (fewer at the end of the file). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function byteSourceOf(data: Blob | Uint8Array): ByteSource {
  if (data instanceof Uint8Array) return { size: data.length, read: (offset, length) => Promise.resolve(data.subarray(offset, offset + length)) };
  return { size: data.size, read: async (offset, length) => new Uint8Array(await data.slice(offset, offset + length).arrayBuffer()) };
}

export type DeclaredSize =
  | { found: true; width: number; height: number }
  /** `format`: what the bytes look like (null: no format Spotter knows, so the decoder decides). */
  | { found: false; format: string | null };

/** Enough of the start of a file for the formats whose size must come first (PNG, WebP, BMP). */
const START_BYTES = 64 * 1024;
/** The largest AVIF `meta` box read (it holds item and property tables, a few KB in practice). */
const MAX_META_BYTES = 4 * 1024 * 1024;

export async function declaredSize(source: ByteSource): Promise<DeclaredSize> {
  const head = await source.read(0, START_BYTES);
  const bytes = new Cursor(source);
  const format = imageTypeOf(head) ?? (isIcon(head) ? 'image/x-icon' : null);
  let size: { width: number; height: number } | null;
  switch (format) {
    case 'image/jpeg':
      size = await jpegSize(bytes);
      break;
    case 'image/gif':
      size = await gifSize(bytes);
      break;
    case 'image/avif':
      size = await avifSize(bytes);
      break;
    case 'image/x-icon':
      size = await iconSize(bytes);
      break;
    case null:
      return { found: false, format: null };
    default:
      // PNG (IHDR must be the first chunk), WebP (its first chunk says), BMP (a fixed header).
      size = sizeByImageSize(head);
  }
  return size ? { found: true, ...size } : { found: false, format };
}

function sizeByImageSize(bytes: Uint8Array): { width: number; height: number } | null {
  try {
    const { width, height } = imageSize(bytes);
    return width !== undefined && height !== undefined ? { width, height } : null;
  } catch {
    return null;
  }
}

/** Window size: a long walk (megabytes of junk, thousands of blocks) costs few reads. */
const WINDOW_BYTES = 64 * 1024;

/** Reads through a file front to back, a window at a time. */
class Cursor {
  private window: Uint8Array = new Uint8Array(0);
  private start = 0;
  constructor(private readonly source: ByteSource) {}

  get size(): number {
    return this.source.size;
  }

  /** The bytes [offset, offset + length), or null past the end of the file. */
  async bytes(offset: number, length: number): Promise<Uint8Array | null> {
    if (offset < 0 || offset + length > this.source.size) return null;
    if (offset < this.start || offset + length > this.start + this.window.length) await this.load(offset, length);
    return this.window.subarray(offset - this.start, offset - this.start + length);
  }

  /** The loaded bytes from `offset` on (at least one), and where they start in the file; null at the end. */
  async from(offset: number): Promise<{ bytes: Uint8Array; start: number } | null> {
    if (offset < 0 || offset >= this.source.size) return null;
    if (offset < this.start || offset >= this.start + this.window.length) await this.load(offset, 1);
    return { bytes: this.window.subarray(offset - this.start), start: offset };
  }

  async byte(offset: number): Promise<number | null> {
    return (await this.bytes(offset, 1))?.[0] ?? null;
  }

  async uint16(offset: number, littleEndian: boolean): Promise<number | null> {
    const b = await this.bytes(offset, 2);
    return b ? (littleEndian ? b[0]! | (b[1]! << 8) : (b[0]! << 8) | b[1]!) : null;
  }

  async uint32(offset: number, littleEndian: boolean): Promise<number | null> {
    const b = await this.bytes(offset, 4);
    return b ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, littleEndian) : null;
  }

  private async load(offset: number, length: number): Promise<void> {
    // A new array each time: bytes handed out earlier stay as they were.
    this.window = await this.source.read(offset, Math.max(length, WINDOW_BYTES));
    this.start = offset;
  }
}

/** The frame headers (SOF0-SOF15): every other marker from 0xC4 to 0xCF is a table. */
const isFrameMarker = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
/** Markers with no length: TEM, RST0-7 and SOI. */
const isStandalone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);

/**
 * The next marker from `offset` on, as libjpeg's next_marker reads it: any bytes up to a 0xFF are
 * junk (skipped with a warning), then fill bytes (0xFF), then the marker; 0xFF 0x00 is junk too.
 * Returns the marker and the offset just after it. Scans each window in one go.
 */
async function nextMarker(file: Cursor, offset: number): Promise<{ marker: number; offset: number } | null> {
  let afterFF = false;
  for (let window = await file.from(offset); window; window = await file.from(window.start + window.bytes.length)) {
    const { bytes, start } = window;
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (byte === 0xff) afterFF = true;
      else if (afterFF && byte !== 0x00) return { marker: byte, offset: start + i + 1 };
      else afterFF = false;
    }
  }
  return null;
}

/**
 * The size in a JPEG's frame header, found as libjpeg (Chromium's and Firefox's decoder) finds it:
 * segment after segment by their lengths, whatever lies between them. None before the first scan
 * or the end of the image: there is no frame to decode.
 */
async function jpegSize(file: Cursor): Promise<{ width: number; height: number } | null> {
  let offset = 2; // after SOI
  for (;;) {
    const next = await nextMarker(file, offset);
    if (!next) return null;
    const { marker } = next;
    offset = next.offset;
    if (isFrameMarker(marker)) {
      const height = await file.uint16(offset + 3, false);
      const width = await file.uint16(offset + 5, false);
      return height === null || width === null ? null : { width, height };
    }
    if (isStandalone(marker)) continue;
    if (marker === 0xd9 || marker === 0xda) return null; // EOI or SOS before any frame
    const length = await file.uint16(offset, false);
    if (length === null || length < 2) return null;
    offset += length;
  }
}

/** The offset just after a GIF's data sub-blocks from `offset` (each a length byte and its data, ended by an empty one); null if the file ends first. */
async function afterSubBlocks(file: Cursor, offset: number): Promise<number | null> {
  for (;;) {
    const window = await file.from(offset);
    if (!window) return null;
    let i = offset - window.start;
    while (i < window.bytes.length && window.bytes[i] !== 0) i += 1 + window.bytes[i]!;
    if (i < window.bytes.length) return window.start + i + 1;
    offset = window.start + i;
  }
}

/**
 * A GIF's size: its logical screen, grown to hold the first frame where that is larger (decoders
 * size the image so), the frame found past any number of extension blocks.
 */
async function gifSize(file: Cursor): Promise<{ width: number; height: number } | null> {
  const screenWidth = await file.uint16(6, true);
  const screenHeight = await file.uint16(8, true);
  const flags = await file.byte(10);
  if (screenWidth === null || screenHeight === null || flags === null) return null;
  let offset = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  for (;;) {
    const block = await file.byte(offset);
    if (block === 0x21) {
      // An extension: its label, then data sub-blocks.
      const after = await afterSubBlocks(file, offset + 2);
      if (after === null) return null;
      offset = after;
    } else if (block === 0x2c) {
      const frame = await file.bytes(offset + 1, 8);
      if (!frame) return null;
      const at = (i: number) => frame[i]! | (frame[i + 1]! << 8);
      return { width: Math.max(screenWidth, at(0) + at(4)), height: Math.max(screenHeight, at(2) + at(6)) };
    } else {
      return null; // the trailer, or not a block: no frame
    }
  }
}

/** An AVIF's size, from the `ispe` properties in its `meta` box, wherever among the top-level boxes it is. */
async function avifSize(file: Cursor): Promise<{ width: number; height: number } | null> {
  let ftyp: Uint8Array | null = null;
  for (let offset = 0; offset + 8 <= file.size; ) {
    const size32 = await file.uint32(offset, false);
    const type = await file.bytes(offset + 4, 4);
    if (size32 === null || !type) return null;
    const name = String.fromCharCode(...type);
    let size = size32;
    if (size32 === 1) {
      const high = await file.uint32(offset + 8, false);
      const low = await file.uint32(offset + 12, false);
      if (high === null || low === null) return null;
      size = high * 2 ** 32 + low;
    } else if (size32 === 0) {
      size = file.size - offset; // to the end of the file
    }
    if (size < 8) return null;
    if (name === 'ftyp' || name === 'meta') {
      if (size > MAX_META_BYTES) return null;
      const box = await file.bytes(offset, size);
      if (!box) return null;
      // Copied: the cursor's window moves on.
      if (name === 'ftyp') ftyp = box.slice();
      else if (ftyp) {
        const joined = new Uint8Array(ftyp.length + box.length);
        joined.set(ftyp);
        joined.set(box, ftyp.length);
        return sizeByImageSize(joined);
      }
    }
    offset += size;
  }
  return null;
}

/** An icon or cursor file (ICO, CUR): reserved 0, type 1 or 2, at least one picture. */
function isIcon(head: Uint8Array): boolean {
  return head.length >= 6 && head[0] === 0 && head[1] === 0 && (head[2] === 1 || head[2] === 2) && head[3] === 0 && (head[4]! | (head[5]! << 8)) > 0;
}

/**
 * The largest picture in an icon file. The directory's sizes say at most 256 px, but each picture
 * is a PNG or a bitmap of its own, at an offset the directory gives, and decoders go by its header.
 */
async function iconSize(file: Cursor): Promise<{ width: number; height: number } | null> {
  const count = (await file.uint16(4, true)) ?? 0;
  let largest: { width: number; height: number } | null = null;
  for (let i = 0; i < count; i++) {
    const entry = await file.bytes(6 + 16 * i, 16);
    if (!entry) return null;
    const view = new DataView(entry.buffer, entry.byteOffset, 16);
    const listed = { width: entry[0] || 256, height: entry[1] || 256 };
    const picture = await file.bytes(view.getUint32(12, true), 26);
    let own: { width: number; height: number } | null = null;
    if (picture && picture[0] === 0x89 && picture[1] === 0x50) own = sizeByImageSize(picture);
    else if (picture) {
      // A BITMAPINFOHEADER: its height covers the picture and its transparency mask.
      const header = new DataView(picture.buffer, picture.byteOffset, picture.length);
      own = { width: Math.abs(header.getInt32(4, true)), height: Math.ceil(Math.abs(header.getInt32(8, true)) / 2) };
    }
    for (const size of [listed, own]) if (size && (!largest || size.width * size.height > largest.width * largest.height)) largest = size;
  }
  return largest;
}
