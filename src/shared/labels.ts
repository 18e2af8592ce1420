/** What makes a label: the rules every context applies (the popup before reading files, storage before writing). */
import { SpotterError } from './errors';

export const MAX_LABEL_LENGTH = 60;

const OBJECT_KEYWORDS = new Set(['__proto__', 'constructor', 'prototype']);

/** A label as typed, trimmed and with runs of spaces made one. */
export function collapseSpaces(raw: string): string {
  return raw.trim().replace(/\s+/g, ' ');
}

/**
 * Characters that show as nothing on their own: spaces, controls, format characters (zero-width
 * space and joiners, direction marks, tags), other default-ignorable ones (Hangul fillers,
 * variation selectors), combining marks with no base, unassigned code points, and the braille
 * blank (U+2800), which is a symbol that draws no dots.
 */
const INVISIBLE = /[\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Cn}\p{Cs}\p{M}\u2800]/gu;

/** Whether a label has something to see: a label of zero-width spaces shows as an empty line in every list and overlay. */
export function hasVisibleCharacter(label: string): boolean {
  return label.replace(INVISIBLE, '').length > 0;
}

/** Trims and collapses spaces; refuses empty, invisible, overlong and reserved names with a message for the user. */
export function normaliseLabel(raw: string): string {
  const label = collapseSpaces(raw);
  if (!label) throw new SpotterError('bad-message', 'A label needs at least one letter.');
  // Invisible characters inside a label stay: emoji sequences and some scripts need joiners.
  if (!hasVisibleCharacter(label)) throw new SpotterError('bad-message', 'A label needs at least one visible character: this one has only spaces or invisible characters (such as zero-width spaces).');
  if (label.length > MAX_LABEL_LENGTH) throw new SpotterError('bad-message', `Labels are at most ${MAX_LABEL_LENGTH} characters.`);
  if (label.toLowerCase() === 'unknown') throw new SpotterError('bad-message', '"unknown" is reserved for images Spotter is unsure about.');
  // Reports are keyed by label, and a checked record drops these keys (they could pollute prototypes).
  if (OBJECT_KEYWORDS.has(label)) throw new SpotterError('bad-message', `"${label}" cannot be a label: JavaScript keeps that word for itself. Try "${label} 1" or another spelling.`);
  return label;
}
