/** File helpers for "Add images", export and import. */
import { MAX_IMAGE_BYTES } from '../shared/protocol';

export function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(new Error(`${file.name} could not be read.`));
    reader.readAsDataURL(file);
  });
}

export interface LabelledFile {
  file: File;
  label: string;
}

/** What a folder upload gives: the files to add, and the reasons others were left out. */
export interface FolderUpload {
  files: LabelledFile[];
  skipped: string[];
}

/** Keeps the files Spotter can take; says why the others were left out. */
export function imageFilesOnly(files: readonly LabelledFile[]): FolderUpload {
  const skipped: string[] = [];
  const kept = files.filter(({ file }) => {
    if (file.name.startsWith('.')) return false; // .DS_Store and friends: not worth a word
    if (!file.type.startsWith('image/')) skipped.push(`${file.name} (not an image)`);
    else if (file.size > MAX_IMAGE_BYTES) skipped.push(`${file.name} (over ${MAX_IMAGE_BYTES / 1024 / 1024} MB)`);
    else return true;
    return false;
  });
  return { files: kept, skipped };
}

/**
 * Teachable-Machine-style folder upload: choosing "flowers" with "flowers/tulips/a.jpg" labels
 * a.jpg "tulips". The label is the first sub-folder, so "flowers/tulips/red/b.jpg" is "tulips"
 * too; files straight in the chosen folder have no label and are left out, with a note.
 */
export function labelsFromFolder(files: readonly File[]): FolderUpload {
  const labelled: LabelledFile[] = [];
  let unlabelled = 0;
  for (const file of files) {
    const parts = (file.webkitRelativePath || file.name).split('/');
    if (parts.length >= 3) labelled.push({ file, label: parts[1]! });
    else if (!file.name.startsWith('.')) unlabelled++;
  }
  const { files: kept, skipped } = imageFilesOnly(labelled);
  if (unlabelled > 0) skipped.unshift(`${unlabelled} file${unlabelled === 1 ? '' : 's'} not in a sub-folder (choose the folder that holds one sub-folder per label)`);
  return { files: kept, skipped };
}

export function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
