/** The popup's "Add images" file rules (pure functions over File objects; Node has File). */
import { describe, expect, it } from 'vitest';
import { imageFilesOnly, labelsFromFolder } from '../../src/popup/files';
import { MAX_IMAGE_BYTES } from '../../src/shared/protocol';

/** A File as a folder picker gives it: with its path inside the chosen folder. */
function picked(relativePath: string, type = 'image/jpeg', size = 10): File {
  const file = new File([new Uint8Array(size)], relativePath.split('/').at(-1)!, { type });
  Object.defineProperty(file, 'webkitRelativePath', { value: relativePath });
  return file;
}

describe('labelsFromFolder', () => {
  it('labels each file by the first sub-folder of the chosen folder', () => {
    const { files, skipped } = labelsFromFolder([picked('flowers/tulips/a.jpg'), picked('flowers/roses/b.png', 'image/png'), picked('flowers/tulips/red/c.jpg')]);
    expect(files.map(({ file, label }) => [file.name, label])).toEqual([
      ['a.jpg', 'tulips'],
      ['b.png', 'roses'],
      ['c.jpg', 'tulips'],
    ]);
    expect(skipped).toEqual([]);
  });

  it('says why files were left out: not in a sub-folder, not an image, too large; hidden files silently', () => {
    const { files, skipped } = labelsFromFolder([
      picked('tulips/a.jpg'),
      picked('tulips/b.jpg'),
      picked('flowers/tulips/notes.txt', 'text/plain'),
      picked('flowers/tulips/huge.jpg', 'image/jpeg', MAX_IMAGE_BYTES + 1),
      picked('flowers/tulips/.DS_Store', ''),
      picked('flowers/tulips/ok.jpg'),
    ]);
    expect(files.map(({ file }) => file.name)).toEqual(['ok.jpg']);
    expect(skipped).toEqual(['2 files not in a sub-folder (choose the folder that holds one sub-folder per label)', 'notes.txt (not an image)', 'huge.jpg (over 32 MB)']);
  });
});

describe('imageFilesOnly', () => {
  it('keeps images under the size limit for the label the user typed', () => {
    const { files, skipped } = imageFilesOnly([
      { file: picked('a.jpg'), label: 'ants' },
      { file: picked('b.pdf', 'application/pdf'), label: 'ants' },
    ]);
    expect(files.map(({ file, label }) => [file.name, label])).toEqual([['a.jpg', 'ants']]);
    expect(skipped).toEqual(['b.pdf (not an image)']);
  });
});
