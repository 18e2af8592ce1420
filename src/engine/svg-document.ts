/**
 * An SVG's text as the engine's document reads it before drawing it: parsed with DOMParser (which
 * loads nothing and runs nothing), its style sheets matched to the elements they reach, and the
 * tree measured (svg-measure.ts). Needs a document: Chrome's offscreen document, Firefox's event page.
 */
import type { ErrorInfo } from '../shared/errors';
import { measureSvg, type SvgNode } from './svg-measure';

const SVG_NS = 'http://www.w3.org/2000/svg';
export const SVG_DAMAGED_MESSAGE = 'This SVG image could not be drawn (it is damaged, or not SVG at all).';

/** Why this SVG must not be drawn, or null. `rasterProblem`: the pixel check for pictures nested in it. */
export function svgProblem(text: string, rasterProblem: (bytes: Uint8Array) => string | null): ErrorInfo | null {
  const sheets = new Map<SvgNode, string>();
  const parse = (source: string): Element | null => {
    const doc = new DOMParser().parseFromString(source, 'image/svg+xml');
    const root = doc.documentElement;
    // An <img> draws nothing of a document that does not parse, or whose root is not SVG's.
    if (doc.getElementsByTagName('parsererror').length > 0 || root.localName !== 'svg' || root.namespaceURI !== SVG_NS) return null;
    matchStyleSheets(doc, sheets);
    return root;
  };
  const root = parse(text);
  if (!root) return { code: 'not-image', message: SVG_DAMAGED_MESSAGE };
  const verdict = measureSvg(root, { parse, rasterProblem, sheetStyle: (node) => sheets.get(node) ?? '' });
  if (verdict.ok) return null;
  return { code: /foreignObject/.test(verdict.message) ? 'not-image' : 'too-large', message: verdict.message };
}

/**
 * The declarations of the document's style sheets that name a reference (url(), var()), added to
 * each element their selectors match. Conditions (@media, @supports) are ignored, so a rule counts
 * wherever it could apply; a selector the engine cannot match (nesting, an unknown pseudo-class)
 * counts for every element.
 */
function matchStyleSheets(doc: Document, sheets: Map<SvgNode, string>): void {
  const text = [...doc.getElementsByTagName('style')].map((style) => style.textContent ?? '').join('\n');
  if (!/url\(|var\(/i.test(text)) return;
  const sheet = new CSSStyleSheet();
  try {
    sheet.replaceSync(text);
  } catch {
    return;
  }
  const everything = () => doc.getElementsByTagName('*');
  const add = (elements: Iterable<Element>, declarations: string) => {
    for (const element of elements) sheets.set(element, `${sheets.get(element) ?? ''};${declarations}`);
  };
  const walk = (rules: CSSRuleList, nested: boolean) => {
    for (const rule of rules) {
      if (rule instanceof CSSStyleRule) {
        const declarations = rule.style.cssText;
        if (/url\(|var\(/i.test(declarations)) {
          let matched: Iterable<Element>;
          try {
            matched = nested ? everything() : doc.querySelectorAll(rule.selectorText);
          } catch {
            matched = everything();
          }
          add(matched, declarations);
        }
        walk(rule.cssRules, true);
      } else if (rule instanceof CSSGroupingRule) walk(rule.cssRules, nested);
    }
  };
  walk(sheet.cssRules, false);
}
