/**
 * "unknown" means "none of my labels", in real Chromium and Firefox ESR: taught ants and bees (the
 * first 12 shared photos of each), Spotter shows none of the 12 held-out ants and bees it gets right
 * as "unknown", and calls a giant panda "unknown", its best guess beside it. The Train view gives
 * the cross-validated estimate with its spread over the folds.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETRAIN_DIR } from '../support/photos';
import { askFrom, E2E_BROWSERS, launchSpotter, openPopupFor, type SpotterSession } from './support/browsers';
import { startServer, type FixtureServer } from './support/fixture-server';
import { waitForSettledOverlay } from './support/overlay';

const TEACH_PER_LABEL = 12;
const PANDA = '/photos/imagenet_n02510455_giant_panda.jpg';

interface Photo {
  label: string;
  path: string;
  role: 'teach' | 'test';
}

/** The hymenoptera photos, sorted by file name per label: the first 12 to teach, the other 6 held out. */
function insectPhotos(): Photo[] {
  return ['ants', 'bees'].flatMap((label) =>
    readdirSync(path.join(RETRAIN_DIR, 'hymenoptera', label))
      .filter((file) => file.endsWith('.jpg'))
      .sort()
      .map((file, i) => ({ label, path: `/retrain/hymenoptera/${label}/${file}`, role: i < TEACH_PER_LABEL ? ('teach' as const) : ('test' as const) })),
  );
}

const photos = insectPhotos();
const heldOut = photos.filter((photo) => photo.role === 'test');
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Insects and a panda</title></head><body>
${heldOut.map((photo, i) => `<img id="held-out-${i}" src="${photo.path}" alt="" width="120" height="90" style="object-fit:cover">`).join('\n')}
<img id="panda" src="${PANDA}" alt="" width="120" height="90" style="object-fit:cover">
</body></html>`;

describe.each(E2E_BROWSERS)('Spotter in %s: "unknown" means none of my labels', (browserName) => {
  let site: FixtureServer;
  let spotter: SpotterSession;
  let page: Page;

  async function classify(selector: string) {
    const srcUrl = await page.$eval(selector, (img) => (img as HTMLImageElement).currentSrc);
    await spotter.chooseMenuItem(page, selector, { srcUrl, mediaType: 'image' });
    const overlay = await waitForSettledOverlay(page, 30_000, spotter.overlays);
    await page.keyboard.press('Escape');
    await expect.poll(() => spotter.overlays(page).then((o) => o.length)).toBe(0);
    expect(overlay.state, overlay.text).toBe('done');
    const user = overlay.labels.filter((l) => l.kind === 'user');
    const unknown = user[0]?.label === 'unknown';
    return { unknown, bestGuess: (unknown ? user[1] : user[0])?.label, text: overlay.text };
  }

  beforeAll(async () => {
    site = await startServer((url) => (url.pathname === '/insects.html' ? { status: 200, type: 'text/html', body: PAGE } : undefined));
    spotter = await launchSpotter(browserName);
    page = await spotter.browser.newPage();
    await page.goto(`${site.origin}/insects.html`);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete && img.naturalWidth > 0));
  });

  afterAll(async () => {
    await spotter?.close();
    await site?.close();
  });

  it('teaches ants and bees (12 each) and retrains; the Train view gives the cross-validated estimate', async () => {
    const panel = await openPopupFor(spotter, page);
    for (const photo of photos.filter((p) => p.role === 'teach')) {
      const added = await askFrom(panel, { type: 'add-example', source: { url: `${site.origin}${photo.path}` }, label: photo.label, pageUrl: `${site.origin}/insects.html` });
      expect(added.ok, added.error?.message).toBe(true);
    }
    await panel.click('#tab-train');
    await panel.waitForFunction(() => !(document.querySelector('[data-testid="retrain"]') as HTMLButtonElement | null)?.disabled, { timeout: 10_000 });
    await panel.click('[data-testid="retrain"]');
    await panel.waitForSelector('[data-testid="training-done"]', { timeout: 120_000 });
    const estimate = await (await panel.waitForSelector('[data-testid="estimate"]'))!.evaluate((el) => el.textContent ?? '');
    // 24 examples, 12 a label: 5 folds.
    expect(estimate).toMatch(/^about \d+ % right \((folds \d+–\d+ %|every fold \d+ %)\)$/);
    expect(await panel.$eval('[data-testid="report"] p.muted', (el) => el.textContent ?? '')).toMatch(/^5-fold cross-validation: each of the 24 examples predicted by a model trained without it; the model in use learned from all 24 · /);
    await panel.close();
    await page.bringToFront();
  });

  it('shows none of the held-out ants and bees it gets right as "unknown"', async () => {
    const hidden: string[] = [];
    let right = 0;
    for (const [i, photo] of heldOut.entries()) {
      const { unknown, bestGuess, text } = await classify(`#held-out-${i}`);
      if (bestGuess !== photo.label) continue;
      right++;
      if (unknown) hidden.push(`${photo.path}: ${text}`);
    }
    console.info(`${browserName}: ${right} of ${heldOut.length} held-out ants and bees right; shown as unknown: ${hidden.length ? hidden.join('; ') : 'none'}`);
    // Measured (Node, this split): 12 of 12 right.
    expect(right).toBeGreaterThanOrEqual(10);
    expect(hidden, hidden.join('\n')).toEqual([]);
  });

  it('calls a giant panda "unknown", with its best guess beside it', async () => {
    const { unknown, bestGuess, text } = await classify('#panda');
    expect(unknown, text).toBe(true);
    expect(['ants', 'bees']).toContain(bestGuess);
  });
});
