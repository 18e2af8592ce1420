/** The local demo page `npm start` opens: every shared test photo, plus a canvas and a CSS background. */
import { readdirSync } from 'node:fs';
import { PHOTOS_DIR } from '../tests/support/photos';

export function demoPage(): string {
  const photos = readdirSync(PHOTOS_DIR).filter((f) => f.endsWith('.jpg'));
  const figures = photos.map((f) => `<figure><img src="/photos/${f}" alt="${f}"><figcaption>${f}</figcaption></figure>`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Spotter demo</title>
<style>body{font:15px system-ui,sans-serif;margin:24px;max-width:1200px}figure{display:inline-block;margin:8px;width:260px}
img,canvas,.bg{width:260px;height:195px;object-fit:cover;display:block;border-radius:6px}.bg{background-size:cover}figcaption{font-size:12px;color:#666}</style></head>
<body><h1>Spotter demo</h1><p>Right-click any picture and choose <b>Classify with Spotter</b>. Esc closes the overlay.</p>
<figure><div class="bg" style="background-image:url('/photos/imagenet_n04146614_school_bus.jpg')"></div><figcaption>CSS background</figcaption></figure>
<figure><canvas id="c" width="400" height="300"></canvas><figcaption>canvas</figcaption></figure>
${figures}
<script>const i=new Image();i.onload=()=>document.getElementById('c').getContext('2d').drawImage(i,0,0,400,300);i.src='/photos/imagenet_n04398044_teapot.jpg';</script>
</body></html>`;
}
