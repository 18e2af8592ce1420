/**
 * Unusual and broken images as users meet them, in real Chromium and Firefox: right-click each
 * and read the overlay, then open the popup grid and read its cards. Every one must end in labels
 * or in a message that says what is wrong; none may spin or fail silently. (The common forms, the
 * 404, the cross-origin image, blob:, data:, canvas and video, are in classify.e2e.test.ts.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PHOTOS_DIR } from '../support/photos';
import { E2E_BROWSERS, launchSpotter, openPopupFor, type SpotterSession } from './support/browsers';
import { animatedGif, png } from './support/encoders';
import { startServer, type FixtureServer } from './support/fixture-server';
import { waitForSettledOverlay } from './support/overlay';

interface BadImageCase {
  id: string;
  /** 'page' for what the browser gives no media context (inline SVG). */
  context: 'image' | 'page';
  /** The overlay's top label; with neither this nor error, any three labels. */
  label?: string;
  error?: RegExp;
  /** The page itself cannot show it, so the popup does not list it. */
  unlisted?: boolean;
  /** Labels come with this notice (overlay and card); every other case has none. */
  notice?: string;
  /** The picture's address, where the element is not an <img> (the popup card shows it). */
  url?: string;
}

const CUT_SHORT = 'Only part of this image file arrived: these labels are for the part shown.';

const CASES: BadImageCase[] = [
  // Chromium drew an SVG without a natural size (only a viewBox) as a blank white square and classified that.
  { id: 'viewbox-only-svg', context: 'image' },
  // An inline <svg> coloured by the page's CSS (also inside its own <symbol>), its sun a symbol with a gradient from a sprite elsewhere on the page.
  { id: 'inline-svg', context: 'page' },
  // Inline drawings of a photo: an <image> in a rounded frame, and a symbol from a sprite file whose <image> is named relative to the sprite.
  // A drawing used as an image loads nothing from outside: both were blank ("one flat colour").
  { id: 'svg-photo', context: 'page', label: 'giant panda' },
  { id: 'sprite-photo', context: 'page', label: 'giant panda' },
  // A small inline icon over a photo stands for the photo (in the popup, the photo is listed and the icon is not).
  { id: 'icon-over-photo', context: 'page', label: 'zebra', url: '/photos/imagenet_n02391049_zebra.jpg' },
  // As many sites draw cards and heroes: the picture is the background of the link's ::before box (was "No image here").
  { id: 'pseudo-background', context: 'page', label: 'school bus', url: '/photos/imagenet_n04146614_school_bus.jpg' },
  // A photo under a transparent layer, as galleries guard theirs: the browser reports no image there.
  { id: 'covered-photo', context: 'page', label: 'teapot', url: '/photos/imagenet_n04398044_teapot.jpg' },
  // A photo with pointer-events: none inside a link, so that clicks reach the link: hit testing (the browser's menu too) skips it.
  { id: 'unhittable-photo', context: 'page', label: 'airliner', url: '/photos/imagenet_n02690373_airliner.jpg' },
  // A 16 px ::before icon on a wide element is no picture: Spotter says there is none rather than label the icon.
  { id: 'pseudo-icon', context: 'page', error: /^No image here/, unlisted: true, url: '/bad/icon.png' },
  // Cut short: Firefox showed the top part and classified it; Chromium said "not an image". Both now label the part shown, and say so.
  { id: 'truncated-jpeg', context: 'image', label: 'giant panda', notice: CUT_SHORT },
  { id: 'corrupt-jpeg', context: 'image', error: /^This JPEG image is damaged or incomplete, so it cannot be decoded\.$/, unlisted: true },
  { id: 'html-as-png', context: 'image', error: /^This address gives a web page, not an image \(the server says it is image\/png\): perhaps an error or sign-in page\.$/, unlisted: true },
  { id: 'bad-data-url', context: 'image', error: /^This file is not an image Spotter can read \(its data: URL says it is image\/png\)\.$/, unlisted: true },
  { id: 'one-pixel', context: 'image', error: /^This image is only 1 x 1 pixels: too small to recognise anything in/ },
  { id: 'solid-colour', context: 'image', error: /^This image is one flat colour: there is nothing in it to recognise\.$/ },
  // A 2 x 2 AVIF: its size in the message shows that it was decoded.
  { id: 'avif', context: 'image', error: /^This image is only 2 x 2 pixels/ },
  { id: 'animated-gif', context: 'image' },
  { id: 'webp', context: 'image', label: 'giant panda' },
  { id: 'big-jpeg', context: 'image', label: 'giant panda' },
];

const SKY = [136, 204, 255];
const GROUND = [51, 170, 51];
const SPRITE = `<svg style="display:none"><defs>
  <symbol id="sun" viewBox="0 0 40 30"><circle cx="20" cy="15" r="9" fill="url(#glow)"/></symbol>
  <radialGradient id="glow"><stop offset="0" stop-color="#ff0"/><stop offset="1" stop-color="#f80"/></radialGradient>
</defs></svg>`;
/** Modernizr's AVIF probe: a 2 x 2 AVIF (no encoder is installed here to make a larger one). */
const TINY_AVIF =
  'AAAAIGZ0eXBhdmlmAAAAAGF2aWZtaWYxbWlhZk1BMUIAAADybWV0YQAAAAAAAAAoaGRscgAAAAAAAAAAcGljdAAAAAAAAAAAAAAAAGxpYmF2aWYAAAAADnBpdG0AAAAAAAEAAAAeaWxvYwAAAABEAAABAAEAAAABAAABGgAAAB0AAAAoaWluZgAAAAAAAQAAABppbmZlAgAAAAABAABhdjAxQ29sb3IAAAAAamlwcnAAAABLaXBjbwAAABRpc3BlAAAAAAAAAAIAAAACAAAAEHBpeGkAAAAAAwgICAAAAAxhdjFDgQ0MAAAAABNjb2xybmNseAACAAIAAYAAAAAXaXBtYQAAAAAAAAABAAEEAQKDBAAAACVtZGF0EgAKCBgANogQEAwgMg8f8D///8WfhwB8+ErK42A=';

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><style>
  figure { display: inline-block; margin: 6px; position: relative; }
  img, svg { width: 240px; height: 180px; display: block; object-fit: cover; }
  .sky { fill: rgb(${SKY}); } .ground { fill: rgb(${GROUND}); }
  #icon-over-photo { position: absolute; left: 8px; top: 8px; width: 24px; height: 24px; }
  .card { display: block; position: relative; width: 240px; height: 180px; color: #fff; font: bold 20px sans-serif; }
  .card::before { content: ''; position: absolute; inset: 0; z-index: -1; background: url(/photos/imagenet_n04146614_school_bus.jpg) center / cover; }
  .cover { position: absolute; inset: 0; background: transparent; }
  .with-icon { width: 240px; height: 60px; }
  .frame { display: block; width: 240px; height: 180px; } .frame img { pointer-events: none; }
  .with-icon::before { content: ''; display: inline-block; width: 16px; height: 16px; background: url(/bad/icon.png) center / cover; }
</style></head><body>
${SPRITE}
<figure><img id="viewbox-only-svg" src="/bad/viewbox-only.svg"></figure>
<figure><svg id="inline-svg" viewBox="0 0 40 30">
  <defs><symbol id="field" viewBox="0 0 40 7"><rect class="ground" width="40" height="7"/></symbol></defs>
  <rect class="sky" width="40" height="30"/><use href="#field" y="23" width="40" height="7"/><use href="#sun"/>
</svg></figure>
<figure><img src="/photos/imagenet_n02391049_zebra.jpg"><svg id="icon-over-photo" viewBox="0 0 10 10"><path d="M5 9 1 5a2.5 2.5 0 0 1 4-3 2.5 2.5 0 0 1 4 3z" fill="#e33"/></svg></figure>
<figure><img id="truncated-jpeg" src="/bad/truncated.jpg"></figure>
<figure><img id="corrupt-jpeg" src="/bad/corrupt.jpg"></figure>
<figure><img id="html-as-png" src="/bad/sign-in.png"></figure>
<figure><img id="bad-data-url" src="data:image/png;base64,${Buffer.from('hello, world').toString('base64')}"></figure>
<figure><img id="one-pixel" src="/bad/one-pixel.png"></figure>
<figure><img id="solid-colour" src="/bad/solid.png"></figure>
<figure><img id="avif" src="/bad/tiny.avif"></figure>
<figure><img id="animated-gif" src="/bad/animated.gif"></figure>
<figure><img id="webp" src="/bad/panda.webp"></figure>
<figure><img id="big-jpeg" src="/bad/big.jpg"></figure>
<figure><a class="card" id="pseudo-background" href="#bus">A day out</a></figure>
<figure><img src="/photos/imagenet_n04398044_teapot.jpg"><div class="cover" id="covered-photo"></div></figure>
<figure><a class="frame" id="unhittable-photo" href="#plane"><img src="/photos/imagenet_n02690373_airliner.jpg"></a></figure>
<figure><p class="with-icon" id="pseudo-icon">Listed with an icon</p></figure>
<figure><svg id="svg-photo" viewBox="0 0 240 180"><clipPath id="rounded"><rect width="240" height="180" rx="16"/></clipPath>
  <image href="/photos/imagenet_n02510455_giant_panda.jpg" width="240" height="180" preserveAspectRatio="xMidYMid slice" clip-path="url(#rounded)"/></svg></figure>
<figure><svg id="sprite-photo" viewBox="0 0 240 180"><use href="/bad/sprite.svg#panda" width="240" height="180"/></svg></figure>
</body></html>`;

/** Inline drawings, in page order: the popup lists them as svg:… cards. */
const DRAWINGS = ['inline-svg', 'svg-photo', 'sprite-photo'];

describe.each(E2E_BROWSERS)('Spotter in %s: unusual and broken images', (browserName) => {
  let site: FixtureServer;
  let spotter: SpotterSession;
  let page: Page;
  /** Files the browser under test encodes (no JPEG or WebP encoder is installed for Node). */
  const encoded: Record<string, Buffer> = {};

  beforeAll(async () => {
    const panda = readFileSync(path.join(PHOTOS_DIR, 'imagenet_n02510455_giant_panda.jpg'));
    const corrupt = Buffer.from(panda);
    for (let i = 2048; i < corrupt.length; i++) corrupt[i] = (i * 7919) & 0xff;
    const files: Record<string, { type: string; body: () => Buffer | string }> = {
      '/bad/sprite.svg': {
        type: 'image/svg+xml',
        body: () =>
          '<svg xmlns="http://www.w3.org/2000/svg"><symbol id="panda" viewBox="0 0 240 180"><image href="../photos/imagenet_n02510455_giant_panda.jpg" width="240" height="180" preserveAspectRatio="xMidYMid slice"/></symbol></svg>',
      },
      '/bad/viewbox-only.svg': { type: 'image/svg+xml', body: () => '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 30"><rect width="40" height="30" fill="#fc8"/><circle cx="20" cy="15" r="10" fill="#06c"/></svg>' },
      '/bad/truncated.jpg': { type: 'image/jpeg', body: () => panda.subarray(0, Math.floor(panda.length * 0.6)) },
      '/bad/corrupt.jpg': { type: 'image/jpeg', body: () => corrupt },
      '/bad/sign-in.png': { type: 'image/png', body: () => '<!doctype html><html><body><h1>Please sign in</h1></body></html>' },
      '/bad/one-pixel.png': { type: 'image/png', body: () => png(1, 1, () => [200, 30, 30]) },
      '/bad/icon.png': { type: 'image/png', body: () => png(16, 16, (x, y) => (x + y < 16 ? [200, 30, 30] : [30, 30, 200])) },
      '/bad/solid.png': { type: 'image/png', body: () => png(200, 150, () => [40, 120, 200]) },
      '/bad/tiny.avif': { type: 'image/avif', body: () => Buffer.from(TINY_AVIF, 'base64') },
      '/bad/animated.gif': {
        type: 'image/gif',
        body: () => animatedGif(64, 64, [[255, 255, 255], [200, 0, 0], [0, 0, 200], [0, 0, 0]], [(x, y) => (((x >> 3) + (y >> 3)) % 2 ? 1 : 0), (x, y) => (((x >> 3) + (y >> 3)) % 2 ? 2 : 3)]),
      },
      '/bad/panda.webp': { type: 'image/webp', body: () => encoded.webp! },
      '/bad/big.jpg': { type: 'image/jpeg', body: () => encoded.big! },
    };
    site = await startServer((url) => {
      if (url.pathname === '/page.html') return { status: 200, type: 'text/html', body: PAGE };
      if (url.pathname === '/blank.html') return { status: 200, type: 'text/html', body: '<!doctype html>' };
      const file = files[url.pathname];
      return file ? { status: 200, type: file.type, body: file.body() } : undefined;
    });
    spotter = await launchSpotter(browserName);
    page = await spotter.browser.newPage();
    await page.goto(`${site.origin}/blank.html`);
    // An 8000 x 6000 JPEG (48 megapixels, under the 100 MP limit) and a WebP, encoded by the browser.
    const made = await page.evaluate(async (photo: string) => {
      const bitmap = await createImageBitmap(await (await fetch(`data:image/jpeg;base64,${photo}`)).blob());
      const encode = async (width: number, height: number, type: string) => {
        const canvas = new OffscreenCanvas(width, height);
        canvas.getContext('2d')!.drawImage(bitmap, 0, 0, width, height);
        const blob = await canvas.convertToBlob({ type, quality: 0.9 });
        const bytes = new Uint8Array(await blob.arrayBuffer());
        let binary = '';
        for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
        return { type: blob.type, base64: btoa(binary) };
      };
      return { big: await encode(8000, 6000, 'image/jpeg'), webp: await encode(bitmap.width, bitmap.height, 'image/webp') };
    }, panda.toString('base64'));
    expect(made.big.type).toBe('image/jpeg');
    expect(made.webp.type).toBe('image/webp');
    encoded.big = Buffer.from(made.big.base64, 'base64');
    encoded.webp = Buffer.from(made.webp.base64, 'base64');
    await page.goto(`${site.origin}/page.html`);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete));
  });

  // A case that fails must not leave its overlay to the next (Escape closes the newest).
  afterEach(async () => {
    for (let left = (await spotter.overlays(page)).length; left > 0; left--) await page.keyboard.press('Escape');
  });

  it('the popup on a page without images says so, with no progress bar or filter', async () => {
    const empty = await spotter.browser.newPage();
    await empty.goto(`${site.origin}/blank.html`);
    const popup = await openPopupFor(spotter, empty);
    await popup.waitForSelector('[data-testid="no-images"]', { timeout: 30_000 });
    expect(await popup.$('[data-testid="progress"]')).toBeNull();
    expect(await popup.$('input[type="search"]')).toBeNull();
    await popup.close();
    await empty.close();
    await page.bringToFront();
  });

  afterAll(async () => {
    await spotter?.close();
    await site?.close();
  });

  for (const testCase of CASES) {
    it(`right-click on ${testCase.id}: ${testCase.error ? 'says what is wrong' : `shows ${testCase.label ?? 'labels'}`}`, async () => {
      const srcUrl = testCase.context === 'image' ? await page.$eval(`#${testCase.id}`, (img) => (img as HTMLImageElement).currentSrc) : undefined;
      await spotter.chooseMenuItem(page, `#${testCase.id}`, srcUrl ? { mediaType: 'image', srcUrl } : {});
      const overlay = await waitForSettledOverlay(page, 30_000, spotter.overlays);
      if (testCase.error) {
        expect(overlay.state, overlay.text).toBe('error');
        expect(overlay.error).toMatch(testCase.error);
      } else {
        expect(overlay.state, overlay.text).toBe('done');
        expect(overlay.labels).toHaveLength(3);
        if (testCase.label) expect(overlay.labels[0]!.label).toBe(testCase.label);
        if (testCase.notice) expect(overlay.text).toContain(testCase.notice);
        else expect(overlay.text).not.toContain(CUT_SHORT);
      }
    });
  }

  it('the popup grid gives each one the same outcome, and draws the SVGs as the page shows them', async () => {
    const popup = await openPopupFor(spotter, page);
    // Every image had loaded (or failed) before the popup opened: its first look finds them all.
    await popup.waitForFunction(
      () => {
        const cards = [...document.querySelectorAll('.card')];
        return cards.length > 0 && cards.every((card) => card.getAttribute('data-state') !== 'pending');
      },
      { timeout: 60_000 },
    );
    const cards = await popup.$$eval('.card', (elements) =>
      elements.map((card) => ({ url: card.getAttribute('data-url') ?? '', state: card.getAttribute('data-state'), top: card.getAttribute('data-top-label'), error: card.querySelector('.labels .error')?.textContent ?? null, notice: card.querySelector('.labels .notice')?.textContent ?? null, placeholder: card.querySelector('.placeholder')?.textContent ?? null })),
    );
    const sources = await page.$$eval('img[id]', (images) => Object.fromEntries(images.map((img) => [img.id, (img as HTMLImageElement).currentSrc])));
    const drawingCards = cards.filter((card) => card.url.startsWith('svg:'));
    const cardOf = (testCase: BadImageCase) =>
      DRAWINGS.includes(testCase.id) ? drawingCards[DRAWINGS.indexOf(testCase.id)] : cards.find((card) => (testCase.url ? card.url.endsWith(testCase.url) : card.url === sources[testCase.id]));
    for (const testCase of CASES.filter((c) => c.id !== 'icon-over-photo')) {
      const card = cardOf(testCase);
      if (testCase.unlisted) {
        expect(card, testCase.id).toBeUndefined();
        continue;
      }
      expect(card, testCase.id).toBeDefined();
      if (testCase.error) {
        expect(card!.state, testCase.id).toBe('error');
        expect(card!.error, testCase.id).toMatch(testCase.error);
        // No thumbnail: the card says what kind of picture it is, in words.
        expect(card!.placeholder, testCase.id).toBe('image');
      } else {
        expect(card!.state, `${testCase.id}: ${card!.error}`).toBe('done');
        if (testCase.label) expect(card!.top, testCase.id).toBe(testCase.label);
        expect(card!.notice, testCase.id).toBe(testCase.notice ?? null);
      }
    }
    // The icon (24 px) is not a picture of its own in the grid.
    expect(drawingCards).toHaveLength(DRAWINGS.length);
    // The control for the unlisted cases above: the grid is exactly one card per listed case (the
    // icon's being its photo's), so no unlisted picture is there under an address cardOf misses.
    const listed = CASES.filter((c) => !c.unlisted);
    const listedCards = listed.map(cardOf);
    expect(listedCards.every(Boolean), listed.filter((_, i) => !listedCards[i]).map((c) => c.id).join(', ')).toBe(true);
    expect(new Set(listedCards).size).toBe(listed.length);
    expect(cards.map((card) => card.url).sort()).toEqual(listedCards.map((card) => card!.url).sort());

    // What the model saw, from the cards' thumbnails (96 px, the centre square).
    const pixelsOf = (url: string, points: [number, number][]) =>
      popup.evaluate(
        async (cardUrl: string, at: [number, number][]) => {
          const thumbnail = [...document.querySelectorAll('.card')].find((card) => card.getAttribute('data-url') === cardUrl)!.querySelector('img')!;
          await thumbnail.decode();
          const canvas = document.createElement('canvas');
          canvas.width = canvas.height = 96;
          const context = canvas.getContext('2d')!;
          context.drawImage(thumbnail, 0, 0, 96, 96);
          return at.map(([x, y]) => Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3)));
        },
        url,
        points,
      );
    const near = (actual: number[], expected: number[]) => actual.every((value, i) => Math.abs(value - expected[i]!) <= 30);
    // The viewBox-only SVG: its orange background and blue disc, not a blank square.
    const [corner, disc] = await pixelsOf(cardOf(CASES[0]!)!.url, [[4, 4], [48, 48]]);
    expect(near(corner!, [255, 204, 136]), `corner ${corner}`).toBe(true);
    expect(near(disc!, [0, 102, 204]), `disc ${disc}`).toBe(true);
    // The inline SVG: sky and ground in the page's CSS colours, the sun drawn from the sprite with its gradient.
    const [sky, ground, sun] = await pixelsOf(cardOf(CASES[1]!)!.url, [[48, 4], [48, 93], [48, 48]]);
    expect(near(sky!, SKY), `sky ${sky}`).toBe(true);
    expect(near(ground!, GROUND), `ground ${ground}`).toBe(true);
    expect(near(sun!, [255, 255, 0]), `sun ${sun}`).toBe(true);
    await popup.close();
    await page.bringToFront();
  });
});
