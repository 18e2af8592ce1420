/** What makes a label (shared/labels.ts): every context checks typed labels with these rules. */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { normaliseLabel } from '../../src/shared/labels';
import { closeDatabaseForTests } from '../../src/storage/database';
import { addExample, allExamples, renameLabel } from '../../src/storage/dataset';
import { parseDataset, serializeDataset } from '../../src/storage/dataset-file';

afterEach(async () => {
  closeDatabaseForTests();
  await new Promise<void>((resolve) => {
    const request = indexedDB.deleteDatabase('spotter');
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
});

const INVISIBLE_MESSAGE = 'A label needs at least one visible character: this one has only spaces or invisible characters (such as zero-width spaces).';

/** Characters that show as nothing: each alone, and mixed with spaces, must not make a label. */
const INVISIBLE: [string, string][] = [
  ['zero-width space', '\u200B'],
  ['zero-width joiner and non-joiner', '\u200D\u200C'],
  ['word joiner', '\u2060'],
  ['invisible function application', '\u2061'],
  ['braille pattern blank', '\u2800'],
  ['Hangul filler', '\u3164'],
  ['Hangul half-width filler', '\uFFA0'],
  ['soft hyphen', '\u00AD'],
  ['Mongolian vowel separator', '\u180E'],
  ['left-to-right and right-to-left marks', '\u200E\u200F'],
  ['bidirectional isolates', '\u2066\u2069'],
  ['combining grapheme joiner', '\u034F'],
  ['variation selector alone', '\uFE0F'],
  ['tag characters', '\u{E0041}\u{E007F}'],
  ['invisible characters between ideographic and no-break spaces', '\u3000\u200B\u00A0'],
  ['control characters', '\u0007\u001B'],
];

describe('labels of invisible characters only', () => {
  it.each(INVISIBLE)('refuses %s', (_name, characters) => {
    expect(() => normaliseLabel(characters)).toThrow(INVISIBLE_MESSAGE);
    expect(() => normaliseLabel(` ${characters}  ${characters} `)).toThrow(INVISIBLE_MESSAGE);
  });

  it('still refuses an empty label with its own message', () => {
    expect(() => normaliseLabel('   ')).toThrow('A label needs at least one letter.');
  });

  it('accepts labels with something to see, invisible characters inside included', () => {
    expect(normaliseLabel('tulips')).toBe('tulips');
    // An emoji (with its variation selector), a ZWJ sequence, a Persian word with a zero-width non-joiner.
    expect(normaliseLabel('❤️')).toBe('❤️');
    expect(normaliseLabel('👩‍🔬')).toBe('👩‍🔬');
    expect(normaliseLabel('می‌خواهم')).toBe('می‌خواهم');
    expect(normaliseLabel('a\u200Bb')).toBe('a\u200Bb');
    expect(normaliseLabel('日本')).toBe('日本');
    expect(normaliseLabel('·')).toBe('·');
  });

  it('is refused where labels are stored: a new example, a rename, an imported file', async () => {
    const example = { label: 'tulips', embedding: new Float32Array(1280).fill(0.5), thumbnail: 'data:image/jpeg;base64,AAAA', imageUrl: 'https://example.com/a.jpg', pageUrl: 'https://example.com/', createdAt: 1 };
    await expect(addExample({ ...example, label: '\u2800' })).rejects.toThrow(INVISIBLE_MESSAGE);
    await addExample(example);
    await expect(renameLabel('tulips', '\u200B\u200B')).rejects.toThrow(INVISIBLE_MESSAGE);
    expect((await allExamples()).map((e) => e.label)).toEqual(['tulips']);
    const file = serializeDataset([{ ...example, id: 1, label: '\u3164' }], undefined);
    expect(() => parseDataset(file)).toThrow(`This Spotter dataset is damaged (example 1, label "\u3164": ${INVISIBLE_MESSAGE}). Nothing was changed.`);
  });
});
