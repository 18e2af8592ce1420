/**
 * What a file's first bytes say it is. Servers and pages often mislabel files (a sign-in page
 * served as image/png, a blob made without a type), so Spotter looks at the bytes themselves.
 */

/** The image type that a file's first bytes announce, for the formats browsers decode; null if none. */
export function imageTypeOf(head: Uint8Array): string | null {
  const starts = (...bytes: number[]) => bytes.every((byte, i) => head[i] === byte);
  const ascii = (from: number, text: string) => [...text].every((char, i) => head[from + i] === char.charCodeAt(0));
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (ascii(0, 'GIF8')) return 'image/gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  if (ascii(0, 'BM')) return 'image/bmp';
  if (ascii(4, 'ftypavif') || ascii(4, 'ftypavis')) return 'image/avif';
  return null;
}

/** Whether the bytes are an HTML page (an error or sign-in page where an image was expected). */
export function looksLikeWebPage(head: Uint8Array): boolean {
  // TextDecoder drops a byte-order mark.
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, 1024)).trimStart().toLowerCase();
  return /^<(!doctype html|html|head|body|!--)/.test(text);
}

const FORMAT_NAMES: Record<string, string> = {
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/gif': 'GIF',
  'image/webp': 'WebP',
  'image/bmp': 'BMP',
  'image/avif': 'AVIF',
};

/**
 * Why bytes that the browser could not decode are not a picture, in the user's words.
 * `claimedType` is the type the server (or data: URL) gave; `url` says which of them gave it.
 */
export function undecodableMessage(head: Uint8Array, claimedType: string, url: string): string {
  const format = imageTypeOf(head);
  if (format) return `This ${FORMAT_NAMES[format]} image is damaged or incomplete, so it cannot be decoded.`;
  const claim = claimedType ? ` (${/^data:/i.test(url) ? 'its data: URL' : /^file:/i.test(url) ? 'its file name' : 'the server'} says it is ${claimedType})` : '';
  if (looksLikeWebPage(head)) return `This address gives a web page, not an image${claim}: perhaps an error or sign-in page.`;
  return `This file is not an image Spotter can read${claim}.`;
}
