/**
 * Pages and servers that try to break Spotter, in real Chromium and Firefox: SVGs built to expand
 * past anything drawable (served only to Spotter's download, while the page shows a photo), a job
 * that never returns (the engine's watchdog), a page that re-renders the picture while Spotter
 * looks at it, and synthetic Escape keys. Every case ends in the exact message (or the answer), and
 * the next normal right-click is answered right. All inputs are generated here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHOTOS_DIR } from '../support/photos';
import { askFrom, E2E_BROWSERS, launchSpotter, type SpotterSession } from './support/browsers';
import type { MenuClick } from './support/chrome';
import { startServer, type FixtureServer } from './support/fixture-server';
import { waitForSettledOverlay, type OverlaySnapshot } from './support/overlay';
import { processTreeRssMB } from './support/process-memory';

const SVG_OPEN = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="400" height="300" viewBox="0 0 100 75">';
const repeat = (count: number, make: (i: number) => string) => Array.from({ length: count }, (_, i) => make(i)).join('');
const base64 = (text: string) => Buffer.from(text).toString('base64');

/** Ten layers, each ten <use> of the one below: 10^9 rectangles from a few KB. */
function useLayers(wrap: 'g' | 'symbol' = 'g', href = 'href'): string {
  const layers = repeat(10, (k) => `<${wrap} id="l${k}">${k === 0 ? '<rect width="1" height="1" fill="#c33"/>' : repeat(10, (i) => `<use ${href}="#l${k - 1}" x="${i}"/>`)}</${wrap}>`);
  return `${SVG_OPEN}<defs>${layers}</defs><use ${href}="#l9"/></svg>`;
}

/** Patterns whose tiles are filled with the next pattern, eight deep. */
function patternLayers(): string {
  const patterns = repeat(8, (k) => `<pattern id="p${k}" width="10" height="10" patternUnits="userSpaceOnUse">${repeat(10, (i) => `<rect x="${i}" width="1" height="1"${k < 7 ? ` fill="url(#p${k + 1})"` : ''}/>`)}</pattern>`);
  return `${SVG_OPEN}<defs>${patterns}</defs><rect width="100" height="75" fill="url(#p0)"/></svg>`;
}

/** Masks whose content is masked by the next, written only in a style sheet (what the measure must match itself). */
function styleSheetMasks(): string {
  const rules = repeat(7, (k) => `.m${k} path { mask: url(#m${k + 1}); }`);
  const masks = repeat(8, (k) => `<mask id="m${k}"><g class="m${k}">${repeat(10, (i) => `<path d="M${i} 0h1v1z" fill="#fff"/>`)}</g></mask>`);
  return `${SVG_OPEN}<style>${rules}</style><defs>${masks}</defs><path d="M0 0h100v75H0z" fill="#36c" mask="url(#m0)"/></svg>`;
}

/** A marker of ten circles on each of 30000 vertices. */
function markerOnEveryVertex(): string {
  const marker = `<marker id="dot" markerWidth="2" markerHeight="2">${repeat(10, (i) => `<circle cx="1" cy="1" r="${i / 10}"/>`)}</marker>`;
  return `${SVG_OPEN}<defs>${marker}</defs><path marker-mid="url(#dot)" fill="none" stroke="#000" d="M0 0${repeat(29_999, (i) => ` L${i % 100} ${(i * 7) % 75}`)}"/></svg>`;
}

/** A PNG that is only a header declaring 30000 x 30000 pixels. */
function pixelBombPng(): Buffer {
  const bytes = Buffer.alloc(64);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(bytes);
  bytes.writeUInt32BE(30_000, 16);
  bytes.writeUInt32BE(30_000, 20);
  bytes.set([8, 6, 0, 0, 0], 24);
  return bytes;
}

const EXPANDS = 'This SVG is built to expand to more than 200,000 elements: Spotter does not draw it.';
const FOREIGN_OBJECT = 'This SVG embeds HTML (a <foreignObject> element): Spotter does not draw SVGs that do.';
const DAMAGED = 'This SVG image could not be drawn (it is damaged, or not SVG at all).';
const STALLED = "Spotter's engine stopped responding for 15 s, so Spotter restarted it. Try again.";
const PICTURE_GONE = 'The page removed this picture while Spotter looked at it: this answer is for the picture you clicked, which was here.';

interface SvgCase {
  id: string;
  svg: () => string;
  /** The overlay's exact message; none: it is drawn and labelled. */
  error?: string;
}

/** Served to Spotter's download only: the page's own request for the same address gets a photo. */
const SVG_CASES: SvgCase[] = [
  { id: 'use-layers', svg: () => useLayers(), error: EXPANDS },
  { id: 'symbol-layers', svg: () => useLayers('symbol', 'xlink:href'), error: EXPANDS },
  { id: 'pattern-layers', svg: patternLayers, error: EXPANDS },
  { id: 'style-sheet-masks', svg: styleSheetMasks, error: EXPANDS },
  { id: 'marker-vertices', svg: markerOnEveryVertex, error: EXPANDS },
  // The same bomb as a picture inside an ordinary-looking SVG.
  { id: 'nested-svg-image', svg: () => `${SVG_OPEN}<rect width="100" height="75" fill="#eee"/><image width="100" height="75" href="data:image/svg+xml;base64,${base64(useLayers())}"/></svg>`, error: EXPANDS },
  { id: 'foreign-object', svg: () => `${SVG_OPEN}<rect width="100" height="75" fill="#fc8"/><foreignObject width="100" height="75"><div xmlns="http://www.w3.org/1999/xhtml">Hello</div></foreignObject></svg>`, error: FOREIGN_OBJECT },
  {
    id: 'heavy-filter',
    svg: () => `${SVG_OPEN}<filter id="f"><feConvolveMatrix order="100" kernelMatrix="${'1 '.repeat(10_000)}"/></filter><rect width="100" height="75" fill="#6a3" filter="url(#f)"/></svg>`,
    error: 'This SVG asks for a filter too heavy to draw (a 100 x 100 convolution): Spotter does not draw it.',
  },
  {
    id: 'nested-pixel-bomb',
    svg: () => `${SVG_OPEN}<image width="100" height="75" href="data:image/png;base64,${pixelBombPng().toString('base64')}"/></svg>`,
    error: 'The image is too large to decode (30000 x 30000 pixels; the limit is 100 megapixels). It is a picture inside this SVG.',
  },
  // XML entities nested nine deep (a billion "lol"s): both browsers' parsers refuse it.
  {
    id: 'entity-layers',
    svg: () =>
      `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY lol0 "lol">${repeat(9, (k) => `<!ENTITY lol${k + 1} "${`&lol${k};`.repeat(10)}">`)}]>${SVG_OPEN}<text y="20">&lol9;</text></svg>`,
    error: DAMAGED,
  },
  // Its neighbour that must still be drawn: an icon used fifty times, a pattern, a gradient and a drop shadow.
  {
    id: 'ordinary-svg',
    svg: () =>
      `${SVG_OPEN}<defs><linearGradient id="g"><stop offset="0" stop-color="#fd0"/><stop offset="1" stop-color="#f60"/></linearGradient><pattern id="dots" width="4" height="4" patternUnits="userSpaceOnUse"><circle cx="2" cy="2" r="1" fill="#39f"/></pattern><filter id="shadow"><feGaussianBlur stdDeviation="0.5"/><feOffset dx="0.5" dy="0.5"/><feMerge><feMergeNode/><feMergeNode in="SourceGraphic"/></feMerge></filter><symbol id="star" viewBox="0 0 10 10"><path d="M5 0L6.5 3.5 10 4 7.5 6.5 8 10 5 8 2 10 2.5 6.5 0 4 3.5 3.5z" fill="url(#g)"/></symbol></defs><rect width="100" height="75" fill="url(#dots)"/>${repeat(50, (i) => `<use href="#star" x="${(i % 10) * 10}" y="${Math.floor(i / 10) * 15}" width="9" height="9" filter="url(#shadow)"/>`)}</svg>`,
  },
];

const PANDA = '/photos/imagenet_n02510455_giant_panda.jpg';
const photo = (file: string) => readFileSync(path.join(PHOTOS_DIR, path.basename(file)));

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><style>
  figure { display: inline-block; margin: 6px; } img, svg { width: 240px; height: 180px; display: block; object-fit: cover; }
</style></head><body>
<figure><img id="panda" src="${PANDA}" alt="the normal picture"></figure>
${SVG_CASES.map((c) => `<figure><img id="${c.id}" src="/hostile/${c.id}.svg" alt="${c.id}"></figure>`).join('\n')}
<figure><svg id="inline-foreign-object" viewBox="0 0 40 30"><rect width="40" height="30" fill="#8cf"/><circle cx="20" cy="15" r="9" fill="#fc0"/><foreignObject width="40" height="30"><div xmlns="http://www.w3.org/1999/xhtml" style="font-size:4px">inline HTML</div></foreignObject></svg></figure>
<figure id="rerender-box"></figure>
</body></html>`;

describe.each(E2E_BROWSERS)('Spotter in %s: hostile pages', (browserName) => {
  let site: FixtureServer;
  let spotter: SpotterSession;
  let page: Page;
  let control: Page;

  const srcOf = (selector: string) => page.$eval(selector, (img) => (img as HTMLImageElement).currentSrc);
  const readOverlay = () => waitForSettledOverlay(page, 60_000, spotter.overlays);

  async function rightClickImage(selector: string, click: MenuClick = {}): Promise<void> {
    await spotter.chooseMenuItem(page, selector, { srcUrl: await srcOf(selector), mediaType: 'image', ...click });
  }

  async function closeOverlays(): Promise<void> {
    await page.keyboard.press('Escape');
    await expect.poll(() => spotter.overlays(page).then((o) => o.length)).toBe(0);
  }

  /** The next normal right-click, on the panda: answered right. */
  async function expectPandaAnswered(): Promise<void> {
    await rightClickImage('#panda');
    const overlay = await readOverlay();
    expect(overlay.state, overlay.text).toBe('done');
    expect(overlay.labels[0]?.label).toBe('giant panda');
    await closeOverlays();
  }

  const dataset = async () => JSON.stringify((await askFrom(control, { type: 'list-dataset' })).result);

  beforeAll(async () => {
    const svgs = new Map(SVG_CASES.map((c) => [`/hostile/${c.id}.svg`, c.svg()]));
    site = await startServer((url) => {
      const visit = site.visits.at(-1);
      const fromPage = visit?.path === url.pathname && visit.dest === 'image';
      if (url.pathname === '/page.html') return { status: 200, type: 'text/html', body: PAGE };
      // The page shows a photo; Spotter's own download (Sec-Fetch-Dest: empty) gets the SVG.
      const svg = svgs.get(url.pathname);
      if (svg !== undefined) return fromPage ? { status: 200, type: 'image/jpeg', body: photo(PANDA) } : { status: 200, type: 'image/svg+xml', body: svg };
      // The page's picture at once; Spotter's download only after 3 s, time for the page to re-render.
      if (url.pathname.startsWith('/slow-for-spotter/')) return { status: 200, type: 'image/jpeg', body: photo(url.pathname), ...(fromPage ? {} : { delayMs: 3_000 }) };
      return undefined;
    });
    spotter = await launchSpotter(browserName);
    control = await spotter.openExtensionPage('src/popup/popup.html?tabId=none');
    page = await spotter.browser.newPage();
    await page.goto(`${site.origin}/page.html`);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete && img.naturalWidth > 0));
    // An example, to check that refused labelling changes nothing.
    const added = await askFrom(control, { type: 'add-example', source: { url: `${site.origin}${PANDA}` }, label: 'hostile-check', pageUrl: site.origin });
    expect(added.ok, added.error?.message).toBe(true);
  });

  afterAll(async () => {
    if (control) await askFrom(control, { type: 'delete-label', label: 'hostile-check' }).catch(() => undefined);
    await spotter?.close();
    await site?.close();
  });

  it('answers a normal right-click first', async () => {
    await expectPandaAnswered();
  });

  describe('SVGs served to Spotter', () => {
    it.each(SVG_CASES)('$id', async ({ id, error }) => {
      await rightClickImage(`#${id}`);
      const overlay = await readOverlay();
      if (error) {
        expect(overlay.state, overlay.text).toBe('error');
        expect(overlay.error).toBe(error);
      } else {
        expect(overlay.state, overlay.text).toBe('done');
        expect(overlay.labels.length).toBe(3);
      }
      // The download really was the SVG (the page's own request got the photo).
      expect(site.visits.filter((v) => v.path === `/hostile/${id}.svg` && v.dest !== 'image').length).toBeGreaterThan(0);
      await closeOverlays();
      await expectPandaAnswered();
    });

    it('refuses to label an SVG that expands past the limit, and changes nothing stored', async () => {
      const before = await dataset();
      await rightClickImage('#use-layers', { menuItemId: 'spotter-label:hostile-check' });
      const overlay = await readOverlay();
      expect(overlay.state, overlay.text).toBe('error');
      expect(overlay.error).toBe(EXPANDS);
      await closeOverlays();
      expect(await dataset()).toBe(before);
      await expectPandaAnswered();
    });

    it('refuses an inline drawing on the page that holds HTML (was "internal error: … tainted")', async () => {
      await spotter.chooseMenuItem(page, '#inline-foreign-object', {});
      const overlay = await readOverlay();
      expect(overlay.state, overlay.text).toBe('error');
      expect(overlay.error).toBe(FOREIGN_OBJECT);
      await closeOverlays();
      await expectPandaAnswered();
    });
  });

  describe('a page that re-renders the picture while Spotter downloads it', () => {
    /** A fresh picture whose download by Spotter takes 3 s; the page re-renders it with `change` right after the menu click. */
    async function clickThenChange(change: string): Promise<OverlaySnapshot> {
      await page.evaluate(() => {
        const box = document.getElementById('rerender-box')!;
        box.innerHTML = '<img id="rerendered" src="/slow-for-spotter/imagenet_n02391049_zebra.jpg" alt="re-rendered">';
        return box.querySelector('img')!.decode();
      });
      await rightClickImage('#rerendered');
      await page.evaluate(change);
      return readOverlay();
    }

    it('follows the picture to its copy in the same place (img.replaceWith(img.cloneNode(true)))', async () => {
      const overlay = await clickThenChange(`{ const img = document.getElementById('rerendered'); img.replaceWith(img.cloneNode(true)); }`);
      expect(overlay.state, overlay.text).toBe('done');
      expect(overlay.labels[0]?.label).toBe('zebra');
      expect(overlay.text).not.toContain(PICTURE_GONE);
      // The frame is over the copy, where the picture is now.
      const copy = await page.$eval('#rerendered', (img) => {
        const { left, top } = img.getBoundingClientRect();
        return { left, top };
      });
      const frame = (side: string) => Number(new RegExp(`${side}: ([\\d.-]+)px`).exec(overlay.frameStyle ?? '')?.[1]);
      expect(frame('left')).toBeCloseTo(copy.left, 0);
      expect(frame('top')).toBeCloseTo(copy.top, 0);
      await closeOverlays();
      await expectPandaAnswered();
    });

    it('says where the answer went when the page removes the picture', async () => {
      const overlay = await clickThenChange(`document.getElementById('rerendered').remove()`);
      expect(overlay.state, overlay.text).toBe('done');
      expect(overlay.labels[0]?.label).toBe('zebra');
      expect(overlay.text).toContain(PICTURE_GONE);
      await closeOverlays();
      await expectPandaAnswered();
    });

    it('does not follow to a different picture put in the same place', async () => {
      const overlay = await clickThenChange(`{ const img = document.getElementById('rerendered'); const other = img.cloneNode(); other.src = '${PANDA}'; img.replaceWith(other); }`);
      expect(overlay.state, overlay.text).toBe('done');
      expect(overlay.labels[0]?.label).toBe('zebra');
      expect(overlay.text).toContain(PICTURE_GONE);
      await closeOverlays();
    });
  });

  it("closes the overlay on the user's Escape, not on the page's synthetic ones", async () => {
    await rightClickImage('#panda');
    expect((await readOverlay()).state).toBe('done');
    await page.evaluate(() => {
      for (const target of [window, document, document.body]) target.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', code: 'Escape', bubbles: true, composed: true }));
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await spotter.overlays(page)).map((o) => o.state)).toEqual(['done']);
    await closeOverlays();
  });

  it('restarts an engine whose job never returns: the stuck click is told, the menus keep working, the next click is answered, the memory comes back', async () => {
    const pid = spotter.browser.process()?.pid;
    if (pid === undefined) throw new Error('no browser process to measure');
    await expectPandaAnswered();
    const before = processTreeRssMB(pid);
    // The next image job takes 600 MB and never returns (Spotter's own pages only: see the protocol).
    expect(await askFrom(control, { type: 'stall-engine-for-test', allocateMB: 600 })).toMatchObject({ ok: true, result: { armed: true } });
    await rightClickImage('#panda');
    let peak = before;
    let answered = false;
    const deadline = Date.now() + 60_000;
    let overlay: OverlaySnapshot | undefined;
    while (Date.now() < deadline) {
      peak = Math.max(peak, processTreeRssMB(pid));
      // Spotter's pages and the background still answer while the engine is stuck (Firefox: the menus' event page).
      const toolbar = await Promise.race([spotter.toolbarOf(page).then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 3_000))]);
      answered ||= toolbar;
      expect(toolbar, 'the background stopped answering while the engine was stuck').toBe(true);
      overlay = (await spotter.overlays(page))[0];
      if (overlay?.state === 'error' || overlay?.state === 'done') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(overlay?.state, overlay?.text).toBe('error');
    expect(overlay?.error).toBe(STALLED);
    expect(answered).toBe(true);
    // The stuck job really held its memory, so that the check below can fail.
    expect(peak - before, `peak ${peak.toFixed(0)} MB, before ${before.toFixed(0)} MB`).toBeGreaterThan(450);
    await closeOverlays();
    await expectPandaAnswered();
    // The stuck worker's memory is gone; the new one holds about what the old one did before.
    await expect.poll(() => processTreeRssMB(pid) - before, { timeout: 20_000, interval: 1_000 }).toBeLessThan(250);
  });
});
