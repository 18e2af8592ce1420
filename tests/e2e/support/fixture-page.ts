/**
 * The fixture page: one shared photo in every form Spotter must read, plus broken ones.
 * Each case names the photo and the label the overlay must show (or the error it must give).
 */
import { photoDataUrl } from './fixture-server';

export interface FixtureCase {
  id: string;
  /** What the browser reports for this right-click: an image/video URL, or nothing (page context). */
  context: 'image' | 'video' | 'page';
  expectLabel?: string;
  expectError?: RegExp;
  /** The image URL the browser reports, where no script can read it (an <img> in a closed shadow root). */
  srcUrl?: string;
  /** Only this browser can show it here. */
  onlyIn?: 'chromium';
}

export const FIXTURE_CASES: FixtureCase[] = [
  { id: 'plain-img', context: 'image', expectLabel: 'giant panda' },
  { id: 'picture-img', context: 'image', expectLabel: 'zebra' },
  { id: 'srcset-img', context: 'image', expectLabel: 'pizza' },
  { id: 'css-background', context: 'page', expectLabel: 'school bus' },
  { id: 'canvas', context: 'page', expectLabel: 'teapot' },
  { id: 'video', context: 'video', expectLabel: 'African elephant' },
  { id: 'data-img', context: 'image', expectLabel: 'airliner' },
  { id: 'blob-img', context: 'image', expectLabel: 'hotdog' },
  // A blob with no type, as messengers and decrypting viewers make: the browser shows it, so Spotter reads it too.
  { id: 'untyped-blob-img', context: 'image', expectLabel: 'teapot' },
  { id: 'cross-origin-img', context: 'image', expectLabel: 'dragonfly' },
  { id: 'missing-img', context: 'image', expectError: /HTTP 404/ },
  { id: 'not-an-image', context: 'image', expectError: /not an image/ },
  // An <img> inside a closed shadow root: page scripts cannot reach it; Spotter opens the root.
  { id: 'closed-component', context: 'image', srcUrl: '/photos/coral_cat.jpg', expectLabel: 'Egyptian cat' },
  // Never drawn on: read from the screen, a white box; nothing to classify, and Spotter says so rather than guess.
  // Its overlay's frame is up while the screen is read: this fails (it reads as "web site") unless overlays hide for the capture.
  { id: 'blank-canvas', context: 'page', expectError: /^This image is one flat colour/ },
  // Drawn with another site's image (no CORS): no one may read its pixels back, so Spotter reads them from the screen.
  { id: 'tainted-canvas', context: 'page', expectLabel: 'dragonfly' },
  // Drawn with WebGL: its buffer reads back blank once shown, so Spotter reads it from the screen.
  // (Headless Firefox here has no WebGL.)
  { id: 'webgl-canvas', context: 'page', expectLabel: 'banana', onlyIn: 'chromium' },
  // A tiny file whose header claims 30000 x 30000 pixels (3.6 GB decoded): refused before decoding.
  { id: 'pixel-bomb', context: 'image', expectError: /too large to decode \(30000 x 30000 pixels/ },
];

/** A PNG that is only a header declaring 30000 x 30000 pixels. */
function pixelBombDataUrl(): string {
  const bytes = Buffer.alloc(64);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(bytes);
  bytes.writeUInt32BE(30_000, 16);
  bytes.writeUInt32BE(30_000, 20);
  bytes.set([8, 6, 0, 0, 0], 24);
  return `data:image/png;base64,${bytes.toString('base64')}`;
}

export function fixturePage(crossOrigin: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Spotter fixture</title>
<style>
  body { font: 14px sans-serif; margin: 16px; }
  figure { display: inline-block; margin: 8px; vertical-align: top; }
  img, canvas, video, .bg { width: 280px; height: 210px; object-fit: cover; display: block; }
  .bg { background-size: cover; background-position: center; }
  /* Hostile page CSS: must not break or reveal the overlay. */
  * { box-sizing: content-box; } div { color: red !important; } section { display: none !important; }
</style></head>
<body>
  <h1>Spotter fixture page</h1>
  <figure><img id="plain-img" src="/photos/imagenet_n02510455_giant_panda.jpg" alt="panda"></figure>
  <figure><img id="panda-again" src="/photos/imagenet_n02510455_giant_panda.jpg" alt="the same panda again"></figure>
  <figure><picture>
    <source srcset="/photos/imagenet_n02391049_zebra.jpg" media="(min-width: 1px)">
    <img id="picture-img" src="/photos/imagenet_n07753592_banana.jpg" alt="picture element">
  </picture></figure>
  <figure><img id="srcset-img" src="/photos/imagenet_n07753592_banana.jpg" srcset="/photos/imagenet_n07873807_pizza.jpg 1x, /photos/imagenet_n07873807_pizza.jpg 2x" alt="srcset"></figure>
  <figure><div id="css-background" class="bg" style="background-image: url('/photos/imagenet_n04146614_school_bus.jpg')"></div></figure>
  <figure><canvas id="canvas" width="400" height="300"></canvas></figure>
  <figure><video id="video" autoplay muted playsinline></video></figure>
  <figure><img id="data-img" src="${photoDataUrl('imagenet_n02690373_airliner.jpg')}" alt="data URL"></figure>
  <figure><img id="blob-img" alt="blob URL"></figure>
  <figure><img id="untyped-blob-img" alt="blob URL without a type"></figure>
  <figure><img id="cross-origin-img" src="${crossOrigin}/photos/coral_dragonfly.jpg" alt="cross-origin without CORS"></figure>
  <figure><img id="missing-img" src="/photos/no-such-photo.jpg" alt="missing"></figure>
  <figure><img id="not-an-image" src="/not-an-image.jpg" alt="not an image"></figure>
  <figure><img id="pixel-bomb" src="${pixelBombDataUrl()}" alt="a PNG header claiming 30000 x 30000 pixels"></figure>
  <figure><div id="web-component"></div></figure>
  <figure><canvas id="blank-canvas" width="300" height="200"></canvas></figure>
  <figure><div id="closed-component"></div></figure>
  <figure><canvas id="tainted-canvas" width="300" height="200"></canvas></figure>
  <figure><canvas id="webgl-canvas" width="400" height="300"></canvas></figure>
  <figure><iframe id="same-origin-frame" src="/frame.html" width="300" height="230" title="a same-origin frame"></iframe></figure>
  <div style="height: 1500px"></div>
<script>
  const load = (src) => new Promise((resolve, reject) => { const i = new Image(); i.onload = () => resolve(i); i.onerror = reject; i.src = src; });
  window.fixtureReady = (async () => {
    const teapot = await load('/photos/imagenet_n04398044_teapot.jpg');
    const canvas = document.getElementById('canvas');
    canvas.getContext('2d').drawImage(teapot, 0, 0, canvas.width, canvas.height);

    // The video shows a live stream of a canvas with the elephant photo on it.
    const elephant = await load('/photos/imagenet_n02504458_African_elephant.jpg');
    const stage = document.createElement('canvas');
    stage.width = 480; stage.height = 360;
    const paint = () => stage.getContext('2d').drawImage(elephant, 0, 0, stage.width, stage.height);
    paint(); setInterval(paint, 100);
    const video = document.getElementById('video');
    video.srcObject = stage.captureStream(10);
    await video.play();
    while (video.readyState < 2) await new Promise((r) => setTimeout(r, 50));

    const blob = await (await fetch('/photos/coral_hot_dog.jpg')).blob();
    const blobImg = document.getElementById('blob-img');
    blobImg.src = URL.createObjectURL(blob);
    await blobImg.decode();
    const untyped = new Blob([await (await fetch('/photos/imagenet_n04398044_teapot.jpg')).arrayBuffer()]);
    const untypedImg = document.getElementById('untyped-blob-img');
    untypedImg.src = URL.createObjectURL(untyped);
    await untypedImg.decode();
    // A web component with its picture in an open shadow root.
    const shadow = document.getElementById('web-component').attachShadow({ mode: 'open' });
    shadow.innerHTML = '<img src="/photos/coral_parrot.jpg" style="width: 280px; height: 210px; display: block" alt="in a shadow root">';
    await shadow.querySelector('img').decode();
    // Another site's picture without CORS taints the canvas it is drawn on.
    const foreign = await load('${crossOrigin}/photos/coral_dragonfly.jpg');
    document.getElementById('tainted-canvas').getContext('2d').drawImage(foreign, 0, 0, 300, 200);
    // The banana as a WebGL texture on a quad covering the canvas (preserveDrawingBuffer off, the default).
    const gl = document.getElementById('webgl-canvas').getContext('webgl');
    if (gl) {
      const banana = await load('/photos/imagenet_n07753592_banana.jpg');
      const shader = (type, source) => { const s = gl.createShader(type); gl.shaderSource(s, source); gl.compileShader(s); return s; };
      const program = gl.createProgram();
      gl.attachShader(program, shader(gl.VERTEX_SHADER, 'attribute vec2 p; varying vec2 t; void main() { t = vec2(p.x, -p.y) * 0.5 + 0.5; gl_Position = vec4(p, 0.0, 1.0); }'));
      gl.attachShader(program, shader(gl.FRAGMENT_SHADER, 'precision mediump float; varying vec2 t; uniform sampler2D s; void main() { gl_FragColor = texture2D(s, t); }'));
      gl.bindAttribLocation(program, 0, 'p');
      gl.linkProgram(program);
      gl.useProgram(program);
      gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
      gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
      gl.enableVertexAttribArray(0);
      gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
      gl.bindTexture(gl.TEXTURE_2D, gl.createTexture());
      for (const [name, value] of [[gl.TEXTURE_MIN_FILTER, gl.LINEAR], [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) gl.texParameteri(gl.TEXTURE_2D, name, value);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, banana);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    }
    const frame = document.getElementById('same-origin-frame');
    while (!frame.contentDocument?.querySelector('img')?.complete) await new Promise((r) => setTimeout(r, 50));
    const closed = document.getElementById('closed-component').attachShadow({ mode: 'closed' });
    closed.innerHTML = '<img src="/photos/coral_cat.jpg" style="width: 280px; height: 210px; display: block" alt="in a closed shadow root">';
    await closed.querySelector('img').decode();
    await Promise.all([...document.images].map((img) => img.complete ? null : new Promise((r) => { img.onload = img.onerror = r; })));
    return true;
  })();
</script>
</body></html>`;
}

/** The same-origin iframe's page: one picture shown nowhere else. */
export const FRAME_PAGE = '<!doctype html><meta charset="utf-8"><body style="margin:0"><img src="/photos/coral_bird_chickadee.jpg" style="width:280px;height:210px;display:block" alt="in a same-origin frame">';
