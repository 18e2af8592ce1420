/** The flower photos split as the retraining issue asks: the first 12 per class (sorted) to teach, the other 6 to test. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { RETRAIN_DIR } from '../../support/photos';

export interface FlowerPhoto {
  label: string;
  path: string; // URL path on the fixture server
  role: 'teach' | 'test';
}

export const TEACH_PER_CLASS = 12;

export function flowerPhotos(): FlowerPhoto[] {
  const root = path.join(RETRAIN_DIR, 'flower_photos');
  const classes = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  return classes.flatMap((label) =>
    readdirSync(path.join(root, label))
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .map((file, i) => ({ label, path: `/retrain/flower_photos/${label}/${file}`, role: i < TEACH_PER_CLASS ? ('teach' as const) : ('test' as const) })),
  );
}

export function flowerPage(photos: readonly FlowerPhoto[]): string {
  const figures = photos.map((p, i) => `<img id="flower-${i}" src="${p.path}" alt="" width="120" height="90" style="object-fit:cover">`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Flowers</title>
<style>body{margin:8px} img{margin:2px}</style></head><body>
<h1>Flowers</h1>
${figures}
<img src="/photos/coral_parrot.jpg" alt="too small to list" width="40" height="30">
</body></html>`;
}
