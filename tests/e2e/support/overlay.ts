/**
 * Reads Spotter's overlay. It lives in a CLOSED shadow root, which page scripts (and
 * puppeteer's selectors) cannot enter; the DevTools protocol can, with pierce: true.
 */
import type { Page } from 'puppeteer-core';

interface DomNode {
  nodeName: string;
  nodeValue?: string;
  attributes?: string[];
  children?: DomNode[];
  shadowRoots?: (DomNode & { shadowRootType?: string })[];
}

export interface OverlaySnapshot {
  state: string | null;
  /** Only DevTools (Chromium) can tell; undefined elsewhere. */
  shadowRootType?: string | null;
  labels: { kind: string; label: string; probability: number; text: string }[];
  error: string | null;
  text: string;
  frameStyle: string | null;
}

const attribute = (node: DomNode, name: string) => {
  const attrs = node.attributes ?? [];
  const index = attrs.findIndex((value, i) => i % 2 === 0 && value === name);
  return index === -1 ? null : attrs[index + 1]!;
};
const textOf = (node: DomNode): string => (node.nodeName === '#text' ? (node.nodeValue ?? '') : (node.children ?? []).map(textOf).join(' '));
const findAll = (node: DomNode, match: (n: DomNode) => boolean, out: DomNode[] = []): DomNode[] => {
  if (match(node)) out.push(node);
  for (const child of [...(node.children ?? []), ...(node.shadowRoots ?? [])]) findAll(child, match, out);
  return out;
};

export async function readOverlays(page: Page): Promise<OverlaySnapshot[]> {
  const session = await page.createCDPSession();
  try {
    const { root } = (await session.send('DOM.getDocument', { depth: -1, pierce: true })) as { root: DomNode };
    // Spotter's hosts: plain <div>s right under <html>, each with a closed shadow root.
    const html = findAll(root, (n) => n.nodeName === 'HTML')[0];
    const hosts = (html?.children ?? []).filter((n) => n.nodeName === 'DIV' && n.shadowRoots?.[0]?.shadowRootType === 'closed');
    return hosts.map((host) => {
      const shadow = host.shadowRoots?.[0];
      const panel = shadow ? findAll(shadow, (n) => n.nodeName === 'SECTION')[0] : undefined;
      const frame = shadow ? findAll(shadow, (n) => n.nodeName === 'DIV' && (attribute(n, 'class') ?? '').split(' ').includes('frame'))[0] : undefined;
      const highlight = frame !== undefined && (attribute(frame, 'class') ?? '').split(' ').includes('highlight');
      const items = panel ? findAll(panel, (n) => n.nodeName === 'LI') : [];
      const error = panel ? findAll(panel, (n) => n.nodeName === 'P' && attribute(n, 'class') === 'error')[0] : undefined;
      return {
        // A highlight (from the popup) is a frame alone, with no panel.
        state: panel ? attribute(panel, 'data-state') : highlight ? 'highlight' : null,
        shadowRootType: shadow?.shadowRootType ?? null,
        labels: items.map((li) => ({ kind: attribute(li, 'data-kind') ?? '', label: attribute(li, 'data-label') ?? '', probability: Number(attribute(li, 'data-probability')), text: textOf(li).replace(/\s+/g, ' ').trim() })),
        error: error ? textOf(error).trim() : null,
        text: panel ? textOf(panel).replace(/\s+/g, ' ').trim() : '',
        frameStyle: frame ? attribute(frame, 'style') : null,
      };
    });
  } finally {
    await session.detach();
  }
}

/** Waits until exactly one overlay has finished (result or error) and returns it. */
export async function waitForSettledOverlay(page: Page, timeoutMs = 30_000, read: (page: Page) => Promise<OverlaySnapshot[]> = readOverlays): Promise<OverlaySnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: OverlaySnapshot[] = [];
  while (Date.now() < deadline) {
    last = await read(page);
    const settled = last.filter((o) => o.state === 'done' || o.state === 'error' || o.state === 'saved');
    if (settled.length === 1 && last.length === 1) return settled[0]!;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no settled overlay within ${timeoutMs} ms; saw ${JSON.stringify(last)}`);
}
