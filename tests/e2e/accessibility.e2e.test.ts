/**
 * An accessibility audit of Spotter's own UI with axe-core (WCAG 2.1 A/AA and best practices), in real
 * Chromium and Firefox ESR, in the light and the dark colour scheme: the popup's page grid of
 * classified images, "Your labels" with examples, and the Train view after a finished training
 * (charts and confusion matrix), the options page; in Chromium also the right-click overlay, inside its closed
 * shadow root. Any violation fails the test and is listed in the message.
 *
 * Colour schemes: Chromium emulates prefers-color-scheme per page over CDP. puppeteer's
 * emulateMediaFeatures needs CDP, which Firefox lacks, so Firefox is restarted on the same
 * profile with a pref that makes every page dark (LaunchOptions.colorScheme).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { AxeResults, RunOptions } from 'axe-core';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/paths';
import { E2E_BROWSERS, launchSpotter, openPopupFor, type SpotterSession } from './support/browsers';
import { flowerPage, flowerPhotos, type FlowerPhoto } from './support/flowers';
import { startServer, type FixtureServer } from './support/fixture-server';
import { waitForSettledOverlay } from './support/overlay';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** WCAG 2.0/2.1 A and AA, plus axe's best practices: axe files heading order and landmarks there, under no WCAG tag. */
const RULES: RunOptions = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } };

/** Three labels, four photos each: enough for a grid, label groups and a confusion matrix, and quick to train. */
const photos: FlowerPhoto[] = (() => {
  const all = flowerPhotos().filter((p) => p.role === 'teach');
  return ['daisy', 'roses', 'tulips'].flatMap((label) => all.filter((p) => p.label === label).slice(0, 4));
})();

interface Finding {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string; summary: string }[];
}

interface Audit {
  violations: Finding[];
  /** What axe could not decide (e.g. text over an image): not failures, but shown with them. */
  incomplete: Finding[];
  /** Per rule, how many nodes passed: proof that a rule really looked at something. */
  passed: Record<string, number>;
}

/** Runs axe-core in the page (injected over the automation protocol, which the extension pages' CSP does not govern). */
async function audit(page: Page, include?: string): Promise<Audit> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(
    async (options: RunOptions, selector: string | null) => {
      const axe = (globalThis as unknown as { axe: { run(context: unknown, options: RunOptions): Promise<AxeResults> } }).axe;
      const results = await axe.run(selector ? { include: [selector] } : document, options);
      const findings = (list: AxeResults['violations']) =>
        list.map((r) => ({
          id: r.id,
          impact: r.impact ?? '',
          help: r.help,
          nodes: r.nodes.map((n) => ({ target: JSON.stringify(n.target), summary: (n.failureSummary ?? '').replace(/\s+/g, ' ') })),
        }));
      return { violations: findings(results.violations), incomplete: findings(results.incomplete), passed: Object.fromEntries(results.passes.map((r) => [r.id, r.nodes.length])) };
    },
    RULES,
    include ?? null,
  );
}

function describeFindings(title: string, findings: Finding[]): string[] {
  if (findings.length === 0) return [];
  return [`${title}:`, ...findings.flatMap((f) => [`  ${f.id} (${f.impact}): ${f.help}`, ...f.nodes.map((n) => `    ${n.target}: ${n.summary}`)])];
}

async function expectNoViolations(page: Page, where: string, include?: string): Promise<Audit> {
  return expectClean(await audit(page, include), where);
}

function expectClean(result: Audit, where: string): Audit {
  const message = [`${result.violations.length} axe violation(s) in ${where}`, ...describeFindings('violations', result.violations), ...describeFindings('needs review (not failing)', result.incomplete)].join('\n');
  expect(result.violations, message).toEqual([]);
  return result;
}

/** A whole view: no violations, and axe measured the contrast of its text (so it really ran on the rendered page). */
async function expectCleanView(page: Page, where: string): Promise<void> {
  expectMeasured(await expectNoViolations(page, where));
}

function expectMeasured(result: Audit): void {
  expect(result.passed['color-contrast'] ?? 0).toBeGreaterThan(10);
}

describe.each(E2E_BROWSERS)('Spotter in %s: accessibility (axe-core, WCAG 2.1 AA)', (browserName) => {
  let site: FixtureServer;
  let spotter: SpotterSession;
  let page: Page;
  let panel: Page;

  async function openPageAndPanel(): Promise<void> {
    page = await spotter.browser.newPage();
    await page.goto(`${site.origin}/flowers.html`);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete && img.naturalWidth > 0));
    panel = await openPopupFor(spotter, page);
  }

  async function showTab(tab: 'page' | 'labels' | 'train'): Promise<void> {
    await panel.click(`#tab-${tab}`);
    await panel.waitForFunction((id: string) => document.getElementById(id)?.hidden === false, {}, `panel-${tab}`);
  }

  /** Each view as the user leaves it after using it: a full grid, groups with thumbnails, a finished training's report. */
  async function auditViews(scheme: 'light' | 'dark'): Promise<void> {
    await showTab('page');
    await panel.waitForFunction((n: number) => document.querySelector('[data-testid="progress"]')?.textContent === `${n} / ${n}` && document.querySelectorAll('.card[data-state="done"]').length === n, { timeout: 120_000 }, photos.length);
    await expectCleanView(panel, `the page grid (${scheme})`);

    await showTab('labels');
    await panel.waitForSelector('.label-group .thumbs img');
    // The collapsed "Add images" and a pending delete confirmation are audited too.
    await panel.$eval('details.add-images', (el) => ((el as HTMLDetailsElement).open = true));
    await (await panel.$('.label-group button.danger'))!.click();
    await panel.waitForSelector('.label-group .inline-confirm');
    const labelsAudit = await audit(panel);
    await panel.click('.label-group .inline-confirm .confirm-no'); // before asserting, so a failure leaves the labels as they were
    expectMeasured(expectClean(labelsAudit, `"Your labels" (${scheme})`));

    await showTab('train');
    await panel.waitForSelector('[data-testid="report"] .confusion');
    await panel.waitForSelector('[data-testid="loss-chart"] canvas');
    await panel.$eval('details.advanced', (el) => ((el as HTMLDetailsElement).open = true));
    await expectCleanView(panel, `the Train view after training (${scheme})`);
    // The charts (drawn on a canvas, which CSS cannot reach) take the scheme's colours too: axe cannot see a canvas.
    const chart = await panel.$eval('[data-testid="loss-chart"]', (element) => ({
      background: getComputedStyle(element).backgroundColor,
      train: getComputedStyle(element.querySelector('.u-legend .u-series:nth-child(2) .u-marker')!).borderColor,
    }));
    expect(chart).toEqual(scheme === 'dark' ? { background: 'rgb(32, 35, 42)', train: 'rgb(143, 176, 255)' } : { background: 'rgb(246, 247, 249)', train: 'rgb(47, 91, 211)' });
    await panel.screenshot({ path: path.join(ROOT, 'test-results', `${browserName}-train-${scheme}.png`), fullPage: true });

    // The options page, in the same scheme.
    const options = await spotter.openExtensionPage('src/options/options.html');
    if (browserName === 'chromium') await options.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
    await options.waitForFunction(() => document.querySelector('[data-testid="model-status"]')?.textContent?.startsWith('In use'), { timeout: 60_000 });
    expect(await options.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(scheme === 'dark');
    const optionsAudit = expectClean(await audit(options), `the options page (${scheme})`);
    expect(optionsAudit.passed['color-contrast'] ?? 0).toBeGreaterThan(3);
    await options.screenshot({ path: path.join(ROOT, 'test-results', `${browserName}-options-${scheme}.png`), fullPage: true });
    await options.close();
  }

  beforeAll(async () => {
    site = await startServer((url) => (url.pathname === '/flowers.html' ? { status: 200, type: 'text/html', body: flowerPage(photos) } : undefined));
    spotter = await launchSpotter(browserName, browserName === 'firefox' ? { colorScheme: 'light' } : {});
    await openPageAndPanel();
  });

  afterAll(async () => {
    await spotter?.close();
    await site?.close();
  });

  it('the views have no violations in the light colour scheme, after labelling and training through the UI', async () => {
    expect(await panel.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(false);
    await panel.waitForFunction((n: number) => document.querySelector('[data-testid="progress"]')?.textContent === `${n} / ${n}`, { timeout: 120_000 }, photos.length);
    // Before any label: the grid as a first-time user sees it.
    await expectCleanView(panel, 'the page grid before any label (light)');
    for (const photo of photos) {
      const card = (await panel.$(`.card[data-url="${site.origin}${photo.path}"]`))!;
      const input = (await card.$('input'))!;
      await input.type(photo.label);
      await input.press('Enter');
      await card.waitForSelector('[data-testid="saved"]');
    }
    await showTab('train');
    await panel.click('[data-testid="retrain"]');
    await panel.waitForSelector('[data-testid="training-done"]', { timeout: 120_000 });
    await auditViews('light');
  });

  /** What has the keyboard focus, where it is, and whether it shows a focus ring; null when nothing in the page has it. */
  function focusedControl(): Promise<{ unique: string; name: string; marked: boolean } | null> {
    return panel.evaluate(() => {
      const el = document.activeElement;
      // Tabbing past the last control leaves the page for the browser's own UI (Firefox): not a control of ours.
      if (!document.hasFocus() || !el || el === document.body) return null;
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      const name = `${el.localName}${el.id ? `#${el.id}` : ''}${el.getAttribute('aria-label') ? `[${el.getAttribute('aria-label')}]` : ''}${el.getAttribute('data-testid') ? `{${el.getAttribute('data-testid')}}` : ''}`;
      // The popup's focus style is an outline; the selected tab's box-shadow underline is not a focus mark.
      const outlined = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1;
      return { unique: `${name}@${Math.round(box.left + scrollX)},${Math.round(box.top + scrollY)}`, name, marked: outlined && box.width > 0 && box.height > 0 };
    });
  }

  // axe does not look at focus: walk each view with the keyboard as a keyboard user would.
  it('every control can be reached with the keyboard and shows where the focus is (light)', async () => {
    await panel.bringToFront();
    // The tab list: arrow keys move between the tabs (the ARIA tabs pattern).
    await showTab('page');
    await panel.focus('#tab-page');
    for (const [key, id] of [['ArrowRight', 'tab-labels'], ['ArrowRight', 'tab-train'], ['Home', 'tab-page']] as const) {
      await panel.keyboard.press(key);
      const focused = await focusedControl();
      expect(focused?.name, `${key} in the tab list`).toBe(`button#${id}`);
      expect(focused?.marked, `${id} focused with no visible focus ring`).toBe(true);
    }
    for (const tab of ['page', 'labels', 'train'] as const) {
      // The last walk may have left the focus in the browser's UI.
      await panel.bringToFront();
      await showTab(tab);
      await panel.focus(`#tab-${tab}`);
      const start = await focusedControl();
      const seen: string[] = start ? [start.unique] : [];
      const unmarked: string[] = [];
      // Far more presses than the view has controls: the walk ends when the focus comes round again.
      for (let press = 0; press < 400; press++) {
        await panel.keyboard.press('Tab');
        const focused = await focusedControl();
        if (!focused) continue;
        if (seen.includes(focused.unique)) break;
        seen.push(focused.unique);
        if (!focused.marked) unmarked.push(focused.name);
      }
      const order = seen.join(' ');
      expect(unmarked, `in the ${tab} view, focused with no visible focus ring`).toEqual([]);
      // The controls a keyboard user needs in each view are in the Tab order.
      const needed = { page: ['input[Filter by label]', 'input[Correct the label of'], labels: ['button[Delete this daisy example]', 'select[Merge daisy into]'], train: ['{retrain}', 'summary'] }[tab];
      for (const part of needed) expect(order, `the ${tab} view's Tab order: ${order}`).toContain(part);
    }
  });

  it('the views have no violations in the dark colour scheme', async () => {
    if (browserName === 'chromium') {
      await panel.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
    } else {
      spotter = await spotter.restart({ colorScheme: 'dark' });
      await openPageAndPanel();
    }
    expect(await panel.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(true);
    await auditViews('dark');
  });

  // axe cannot enter a closed shadow root. DevTools can: the test hands the overlay's root to
  // axe by giving its host a `shadowRoot` getter, in the page's world only. Firefox has no such
  // back door (only the content script itself can open its roots, and it does not carry axe), so
  // the overlay, whose styles are the same in both browsers and ignore the colour scheme, is
  // audited in Chromium only.
  if (browserName === 'chromium') {
    it("the right-click overlay (in its closed shadow root) has no violations, with the user's labels and ImageNet's, and after \"Label as\"", async () => {
      await page.bringToFront();
      const selector = '#flower-0';
      const srcUrl = await page.$eval(selector, (img) => (img as HTMLImageElement).currentSrc);
      // Over a photo axe cannot tell the contrast. The panel is 92 % opaque dark grey under light
      // text, so the page's own white behind it is the worst case: hide the photos to get it.
      await page.evaluate(() => document.querySelectorAll('img').forEach((img) => (img.style.visibility = 'hidden')));

      await spotter.chooseMenuItem(page, selector, { srcUrl, mediaType: 'image' });
      const overlay = await waitForSettledOverlay(page, 30_000, spotter.overlays);
      expect(overlay.state).toBe('done');
      expect(overlay.labels.some((l) => l.kind === 'user')).toBe(true);
      await exposeOverlayRoot(page);
      const result = await expectNoViolations(page, 'the overlay with results', '[data-a11y-overlay]');
      // Proof that axe saw inside: every row's name and percentage had its contrast measured, and the dialog its name checked.
      expect(result.passed['color-contrast'] ?? 0, describeFindings('needs review', result.incomplete).join('\n')).toBeGreaterThanOrEqual(2 * overlay.labels.length);
      expect(result.passed['aria-dialog-name']).toBe(1);
      await page.keyboard.press('Escape');
      await page.waitForFunction(() => !document.querySelector('[data-a11y-overlay]')); // moved into <body>, out of overlays()' sight

      await spotter.chooseMenuItem(page, selector, { srcUrl, mediaType: 'image', menuItemId: 'spotter-label:daisy' });
      expect((await waitForSettledOverlay(page, 30_000, spotter.overlays)).state).toBe('saved');
      await exposeOverlayRoot(page);
      const saved = await expectNoViolations(page, 'the overlay after "Label as"', '[data-a11y-overlay]');
      expect(saved.passed['color-contrast'] ?? 0, describeFindings('needs review', saved.incomplete).join('\n')).toBeGreaterThanOrEqual(2);
      await page.keyboard.press('Escape');
      await page.waitForFunction(() => !document.querySelector('[data-a11y-overlay]'));
      await page.evaluate(() => document.querySelectorAll('img').forEach((img) => (img.style.visibility = '')));
    });
  }
});

/** Marks Spotter's overlay host `data-a11y-overlay` and makes its closed shadow root readable as `host.shadowRoot` (Chromium, over DevTools). */
async function exposeOverlayRoot(page: Page): Promise<void> {
  interface DomNode {
    nodeName: string;
    backendNodeId: number;
    children?: DomNode[];
    shadowRoots?: (DomNode & { shadowRootType?: string })[];
  }
  const session = await page.createCDPSession();
  try {
    const { root } = (await session.send('DOM.getDocument', { depth: -1, pierce: true })) as { root: DomNode };
    const html = root.children?.find((n) => n.nodeName === 'HTML');
    const host = html?.children?.find((n) => n.nodeName === 'DIV' && n.shadowRoots?.[0]?.shadowRootType === 'closed');
    if (!host) throw new Error('no overlay host under <html>');
    const hostObject = await session.send('DOM.resolveNode', { backendNodeId: host.backendNodeId });
    const rootObject = await session.send('DOM.resolveNode', { backendNodeId: host.shadowRoots![0]!.backendNodeId });
    // axe measures colours only for elements inside <body> (its layout grid starts there), and
    // Spotter's host hangs under <html>: move it into <body>. It is fixed, in the top layer and
    // styled `all: initial`, so it draws the same there; re-showing it puts it back on top.
    await session.send('Runtime.callFunctionOn', {
      objectId: hostObject.object.objectId!,
      functionDeclaration: `function (root) {
        Object.defineProperty(this, 'shadowRoot', { get: () => root, configurable: true });
        this.setAttribute('data-a11y-overlay', '');
        document.body.append(this);
        if (this.popover) this.showPopover();
      }`,
      arguments: [{ objectId: rootObject.object.objectId! }],
    });
  } finally {
    await session.detach();
  }
}
