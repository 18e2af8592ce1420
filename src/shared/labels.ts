/** What makes a label: the rules every context applies (the popup before reading files, storage before writing). */
import { SpotterError } from './errors';

export const MAX_LABEL_LENGTH = 60;

const OBJECT_KEYWORDS = new Set(['__proto__', 'constructor', 'prototype']);

/** A label as typed, trimmed and with runs of spaces made one. */
export function collapseSpaces(raw: string): string {
  return raw.trim().replace(/\s+/g, ' ');
}

/** Trims and collapses spaces; refuses empty, overlong and reserved names with a message for the user. */
export function normaliseLabel(raw: string): string {
  const label = collapseSpaces(raw);
  if (!label) throw new SpotterError('bad-message', 'A label needs at least one letter.');
  if (label.length > MAX_LABEL_LENGTH) throw new SpotterError('bad-message', `Labels are at most ${MAX_LABEL_LENGTH} characters.`);
  if (label.toLowerCase() === 'unknown') throw new SpotterError('bad-message', '"unknown" is reserved for images Spotter is unsure about.');
  // Reports are keyed by label, and a checked record drops these keys (they could pollute prototypes).
  if (OBJECT_KEYWORDS.has(label)) throw new SpotterError('bad-message', `"${label}" cannot be a label: JavaScript keeps that word for itself. Try "${label} 1" or another spelling.`);
  return label;
}
