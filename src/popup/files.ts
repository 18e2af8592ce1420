/** File helpers for "Add images", export and import. */

export function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(new Error(`${file.name} could not be read.`));
    reader.readAsDataURL(file);
  });
}

/** A folder upload "flowers/tulips/a.jpg" labels a.jpg "tulips": the file's parent folder is its label. */
export function labelsFromFolder(files: readonly File[]): { file: File; label: string }[] {
  return files.flatMap((file) => {
    const parts = (file.webkitRelativePath || file.name).split('/');
    const label = parts.length >= 3 ? parts[parts.length - 2]! : null;
    return label && !file.name.startsWith('.') ? [{ file, label }] : [];
  });
}

export function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
