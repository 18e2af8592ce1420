/**
 * The SVG measure (engine/svg-measure.ts) on generated drawings: bombs of every kind that expand
 * past the limit through references, and real drawings that must still pass. Trees are built here
 * (Node has no DOMParser); in the browsers the engine's document parses them (e2e hostile-pages).
 */
import { describe, expect, it } from 'vitest';
import {
  FILTER_PRIMITIVE_WEIGHT,
  MAX_NESTED_SVG_DEPTH,
  MAX_SVG_ELEMENTS,
  measureSvg,
  SVG_FOREIGN_OBJECT_MESSAGE,
  SVG_NESTING_MESSAGE,
  SVG_UNREADABLE_NESTED_MESSAGE,
  svgExpansionMessage,
  type SvgMeasureOptions,
  type SvgNode,
} from '../../src/engine/svg-measure';

const SVG_NS = 'http://www.w3.org/2000/svg';

interface TestNode extends SvgNode {
  readonly children: TestNode[];
  readonly attributes: { localName: string; value: string }[];
}

/** An element; string children are its text. */
function el(name: string, attrs: Record<string, string | number> = {}, ...children: (TestNode | string)[]): TestNode {
  const elements = children.filter((child): child is TestNode => typeof child !== 'string');
  const text = children.map((child) => (typeof child === 'string' ? child : (child.textContent ?? ''))).join('');
  return {
    localName: name,
    namespaceURI: SVG_NS,
    attributes: Object.entries(attrs).map(([key, value]) => ({ localName: key.replace(/^xlink:/, ''), value: String(value) })),
    children: elements,
    textContent: text,
  };
}

const svg = (...children: TestNode[]) => el('svg', { viewBox: '0 0 100 100' }, ...children);
const times = <T>(count: number, make: (i: number) => T): T[] => Array.from({ length: count }, (_, i) => make(i));
const BOMB = svgExpansionMessage(MAX_SVG_ELEMENTS);

/** Serialised, only to make data: URLs of nested drawings; parse() below finds the tree again. */
function xml(node: TestNode): string {
  const attrs = node.attributes.map((a) => ` ${a.localName}="${a.value}"`).join('');
  return `<${node.localName}${attrs}>${node.children.map(xml).join('')}</${node.localName}>`;
}
function nesting(): { dataUrl(node: TestNode): string; options: SvgMeasureOptions } {
  const trees = new Map<string, TestNode>();
  return {
    dataUrl(node) {
      const text = xml(node);
      trees.set(text, node);
      return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
    },
    options: { parse: (text) => trees.get(text) ?? null },
  };
}

/** The billion-nodes drawing of the report: each layer ten uses of the one below. */
function useLayers(layers: number, fanOut = 10, wrap: 'g' | 'symbol' = 'g', hrefName = 'href'): TestNode {
  const defs = times(layers, (layer) =>
    el(wrap, { id: `l${layer}` }, ...(layer === 0 ? [el('rect', { width: 1, height: 1 })] : times(fanOut, (i) => el('use', { [hrefName]: `#l${layer - 1}`, x: i })))),
  );
  return svg(el('defs', {}, ...defs), el('use', { href: `#l${layers - 1}` }));
}

describe('measureSvg: drawings that expand through references', () => {
  it('refuses <use> elements that reference each other in layers (10 layers of 10: 10^9 nodes)', () => {
    expect(measureSvg(useLayers(10))).toEqual({ ok: false, message: BOMB });
    expect(BOMB).toBe('This SVG is built to expand to more than 200,000 elements: Spotter does not draw it.');
  });

  it('refuses the same through nested symbols, and through the older xlink:href', () => {
    expect(measureSvg(useLayers(8, 10, 'symbol'))).toEqual({ ok: false, message: BOMB });
    expect(measureSvg(useLayers(8, 10, 'g', 'xlink:href'))).toEqual({ ok: false, message: BOMB });
  });

  it('counts exactly what a few layers expand to, below the limit', () => {
    // l0: 1 + rect; l1: 1 + 4 × (use + l0); l2: 1 + 4 × (use + l1); then defs, the use and the root.
    const l0 = 2;
    const l1 = 1 + 4 * (1 + l0);
    const l2 = 1 + 4 * (1 + l1);
    const defs = 1 + l0 + l1 + l2;
    expect(measureSvg(useLayers(3, 4))).toEqual({ ok: true, elements: 1 + defs + (1 + l2) });
  });

  it('refuses patterns whose content is filled with the next pattern, layer after layer', () => {
    const patterns = times(8, (layer) =>
      el('pattern', { id: `p${layer}`, width: 10, height: 10 }, ...times(10, (i) => el('rect', { x: i, width: 1, height: 1, ...(layer < 7 ? { fill: `url(#p${layer + 1})` } : {}) }))),
    );
    expect(measureSvg(svg(el('defs', {}, ...patterns), el('rect', { width: 100, height: 100, fill: 'url(#p0)' })))).toEqual({ ok: false, message: BOMB });
  });

  it('follows fill inherited from a group to every shape in it (the group paints nothing itself)', () => {
    const patterns = times(8, (layer) =>
      el('pattern', { id: `p${layer}`, width: 10, height: 10 }, el('g', layer < 7 ? { fill: `url(#p${layer + 1})` } : {}, ...times(10, (i) => el('rect', { x: i, width: 1, height: 1 })))),
    );
    const drawing = svg(el('defs', {}, ...patterns), el('rect', { width: 100, height: 100, style: 'stroke: red; fill: url("#p0")' }));
    expect(measureSvg(drawing)).toEqual({ ok: false, message: BOMB });
  });

  it('follows a fill set through a custom property', () => {
    const patterns = times(8, (layer) =>
      el('pattern', { id: `p${layer}` }, el('g', layer < 7 ? { style: `--next: url(#p${layer + 1}); fill: var(--next)` } : {}, ...times(10, () => el('rect')))),
    );
    expect(measureSvg(svg(el('defs', {}, ...patterns), el('rect', { fill: 'url(#p0)' })))).toEqual({ ok: false, message: BOMB });
  });

  it('refuses masks, clip paths and markers that multiply the same way', () => {
    const layered = (kind: 'mask' | 'clipPath' | 'marker', property: string) =>
      svg(
        el(
          'defs',
          {},
          ...times(8, (layer) => el(kind, { id: `m${layer}` }, ...times(10, () => el('path', { d: 'M0 0L1 1', ...(layer < 7 ? { [property]: `url(#m${layer + 1})` } : {}) })))),
        ),
        el('path', { d: 'M0 0L9 9', [property]: 'url(#m0)' }),
      );
    expect(measureSvg(layered('mask', 'mask'))).toEqual({ ok: false, message: BOMB });
    expect(measureSvg(layered('clipPath', 'clip-path'))).toEqual({ ok: false, message: BOMB });
    expect(measureSvg(layered('marker', 'marker-start'))).toEqual({ ok: false, message: BOMB });
  });

  it('puts a mid marker on every vertex of a path', () => {
    const marker = el('marker', { id: 'dot' }, ...times(9, () => el('circle', { r: 1 })));
    const path = (vertices: number) => el('path', { 'marker-mid': 'url(#dot)', d: `M0 0${' L1 1'.repeat(vertices - 1)}` });
    expect(measureSvg(svg(el('defs', {}, marker), path(100)))).toMatchObject({ ok: true });
    expect(measureSvg(svg(el('defs', {}, marker), path(30_000)))).toEqual({ ok: false, message: BOMB });
  });

  it('counts style-sheet rules the document passes in as applying', () => {
    const patterns = times(8, (layer) => el('pattern', { id: `p${layer}`, class: `layer${layer}` }, ...times(10, () => el('rect', { class: `in${layer}` }))));
    const drawing = svg(el('style', {}, '.in0 { fill: url(#p1) } …'), el('defs', {}, ...patterns), el('rect', { fill: 'url(#p0)' }));
    expect(measureSvg(drawing)).toMatchObject({ ok: true });
    // What svg-document.ts finds with querySelectorAll: rect.inN gets "fill: url(#pN+1)".
    const sheetStyle = (node: SvgNode) => {
      const classes = Array.from(node.attributes).find((a) => a.localName === 'class')?.value ?? '';
      const layer = /^in(\d)$/.exec(classes)?.[1];
      return layer !== undefined && Number(layer) < 7 ? `fill:url(#p${Number(layer) + 1});` : '';
    };
    expect(measureSvg(drawing, { sheetStyle })).toEqual({ ok: false, message: BOMB });
  });

  it('counts what an animation may switch a reference to', () => {
    const defs = times(9, (layer) => el('g', { id: `l${layer}` }, ...(layer === 0 ? [el('rect')] : times(10, () => el('use', { href: '#nothing' }, el('set', { attributeName: 'href', to: `#l${layer - 1}` }))))));
    expect(measureSvg(svg(el('defs', {}, ...defs), el('use', { href: '#l8' })))).toEqual({ ok: false, message: BOMB });
  });

  it('refuses plain documents with more elements than the limit', () => {
    // Built without spreading 200000 arguments.
    const flat = (count: number) => ({ ...svg(), children: times(count, () => el('rect')) });
    expect(measureSvg(flat(MAX_SVG_ELEMENTS))).toEqual({ ok: false, message: BOMB });
    expect(measureSvg(flat(MAX_SVG_ELEMENTS - 1))).toEqual({ ok: true, elements: MAX_SVG_ELEMENTS });
  });

  it('measures a drawing nested 150,000 deep without running out of stack', () => {
    let node = el('rect');
    for (let i = 0; i < 150_000; i++) node = el('g', {}, node);
    expect(measureSvg(svg(node))).toEqual({ ok: true, elements: 150_002 });
  });

  it('stays quick where every use gives its copy a different inherited fill (no memo can help)', () => {
    const layer = (n: number): TestNode =>
      el('g', { id: `l${n}` }, ...(n === 0 ? [el('rect')] : times(10, (i) => el('use', { href: `#l${n - 1}`, fill: `url(#p${i})` }))));
    const patterns = times(10, (i) => el('pattern', { id: `p${i}` }, el('rect')));
    const started = performance.now();
    expect(measureSvg(svg(el('defs', {}, ...patterns, ...times(9, layer)), el('use', { href: '#l8' })))).toEqual({ ok: false, message: BOMB });
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('measureSvg: what Spotter does not draw at all', () => {
  it('refuses <foreignObject> anywhere in the drawing', () => {
    const drawing = svg(el('g', {}, el('g', {}, el('foreignObject', { width: 10, height: 10 }, el('div')))));
    expect(measureSvg(drawing)).toEqual({ ok: false, message: SVG_FOREIGN_OBJECT_MESSAGE });
    expect(SVG_FOREIGN_OBJECT_MESSAGE).toBe('This SVG embeds HTML (a <foreignObject> element): Spotter does not draw SVGs that do.');
  });

  it('refuses filters whose cost grows with a setting, with what it asked for', () => {
    const filtered = (primitive: TestNode) => svg(el('filter', { id: 'f' }, primitive), el('rect', { filter: 'url(#f)' }));
    expect(measureSvg(filtered(el('feConvolveMatrix', { order: '100', kernelMatrix: '1' })))).toEqual({
      ok: false,
      message: 'This SVG asks for a filter too heavy to draw (a 100 x 100 convolution): Spotter does not draw it.',
    });
    expect(measureSvg(filtered(el('feMorphology', { radius: '5 100000' })))).toEqual({
      ok: false,
      message: 'This SVG asks for a filter too heavy to draw (a morphology radius of 100000): Spotter does not draw it.',
    });
    expect(measureSvg(filtered(el('feTurbulence', { numOctaves: '1000000' })))).toEqual({
      ok: false,
      message: 'This SVG asks for a filter too heavy to draw (turbulence of 1000000 octaves): Spotter does not draw it.',
    });
    expect(measureSvg(filtered(el('feConvolveMatrix', { order: '3', kernelMatrix: '0 1 0 1 1 1 0 1 0' })))).toMatchObject({ ok: true });
    expect(measureSvg(filtered(el('feGaussianBlur', { stdDeviation: 4 })))).toMatchObject({ ok: true });
  });

  it('weighs filter primitives by the shapes that use them', () => {
    const filter = el('filter', { id: 'shadow' }, ...times(10, () => el('feOffset', { dx: 1 })));
    const shapes = (count: number) => svg(el('defs', {}, filter), ...times(count, () => el('rect', { filter: 'url(#shadow)' })));
    expect(measureSvg(shapes(100))).toMatchObject({ ok: true });
    expect(measureSvg(shapes(Math.ceil(MAX_SVG_ELEMENTS / (10 * FILTER_PRIMITIVE_WEIGHT))))).toEqual({ ok: false, message: BOMB });
  });

  it('measures an SVG picture nested as a data: URL, and refuses nesting past the limit', () => {
    const { dataUrl, options } = nesting();
    const bomb = dataUrl(useLayers(8));
    expect(measureSvg(svg(el('image', { href: bomb, width: 10, height: 10 })), options)).toEqual({ ok: false, message: BOMB });
    // Each <image> of a small drawing counts it again; a thousand of them pass.
    const small = dataUrl(svg(el('rect'), el('circle')));
    expect(measureSvg(svg(...times(1000, () => el('image', { href: small }))), options)).toEqual({ ok: true, elements: 1 + 1000 * (1 + 3) });
    let nested = svg(el('rect'));
    for (let depth = 0; depth <= MAX_NESTED_SVG_DEPTH; depth++) nested = svg(el('image', { href: dataUrl(nested) }));
    expect(measureSvg(nested, options)).toEqual({ ok: false, message: SVG_NESTING_MESSAGE });
    const foreign = dataUrl(svg(el('foreignObject')));
    expect(measureSvg(svg(el('image', { href: foreign })), options)).toEqual({ ok: false, message: SVG_FOREIGN_OBJECT_MESSAGE });
  });

  it('reads nested data: URLs as browsers do: base64 (padded or not), stray percent signs, other charsets', () => {
    const trees = new Map<string, TestNode>();
    const bomb = useLayers(8);
    const text = xml(bomb);
    const options: SvgMeasureOptions = { parse: (source) => trees.get(source.replace(/^\uFEFF/, '')) ?? null };
    trees.set(text, bomb);
    const refusedWith = (href: string) => measureSvg(svg(el('image', { href })), options);
    const padded = Buffer.from(text).toString('base64');
    expect(padded.endsWith('=') || padded.length % 4 === 0).toBe(true);
    expect(refusedWith(`data:image/svg+xml;base64,${padded}`)).toEqual({ ok: false, message: BOMB });
    expect(refusedWith(`data:image/svg+xml;base64,${padded.replace(/=+$/, '')}`)).toEqual({ ok: false, message: BOMB });
    expect(refusedWith(`data:image/svg+xml;base64,${padded.replace(/(.{76})/g, '$1%0A')}`)).toEqual({ ok: false, message: BOMB });
    // A "%" that starts no escape: decodeURIComponent throws; a browser keeps it as it is.
    const stray = text.replace('<defs>', '<defs><desc>100%</desc>');
    trees.set(stray, bomb);
    expect(refusedWith(`data:image/svg+xml,${encodeURIComponent(stray).replace('100%25', '100%')}`)).toEqual({ ok: false, message: BOMB });
    // UTF-16 with its byte-order mark: read as UTF-8, it would parse as nothing and pass unmeasured.
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]).toString('base64');
    expect(refusedWith(`data:image/svg+xml;base64,${utf16}`)).toEqual({ ok: false, message: BOMB });
    // And the fragment is not part of the document.
    expect(refusedWith(`data:image/svg+xml,${encodeURIComponent(text)}#l3`)).toEqual({ ok: false, message: BOMB });
  });

  it('refuses an SVG picture nested in it that it cannot read, rather than count it as nothing', () => {
    expect(measureSvg(svg(el('image', { href: 'data:image/svg+xml,<svg><unclosed' })), { parse: () => null })).toEqual({ ok: false, message: SVG_UNREADABLE_NESTED_MESSAGE });
    expect(SVG_UNREADABLE_NESTED_MESSAGE).toBe('This SVG holds an SVG picture that Spotter cannot read: Spotter does not draw it.');
  });

  it('asks the raster check about pictures nested as base64 data: URLs', () => {
    const png = `data:image/png;base64,${btoa('PNG header claiming 30000 x 30000')}`;
    const rasterProblem = (bytes: Uint8Array) => (new TextDecoder().decode(bytes).includes('30000') ? 'The image is too large to decode (30000 x 30000 pixels).' : null);
    expect(measureSvg(svg(el('image', { href: png })), { rasterProblem })).toEqual({ ok: false, message: 'The image is too large to decode (30000 x 30000 pixels). It is a picture inside this SVG.' });
    expect(measureSvg(svg(el('image', { href: `data:image/png;base64,${btoa('small')}` })), { rasterProblem })).toMatchObject({ ok: true });
  });
});

describe('measureSvg: real drawings', () => {
  it('passes an icon sprite used hundreds of times, with gradients, clip paths and a drop shadow', () => {
    const icon = el('symbol', { id: 'icon', viewBox: '0 0 24 24' }, ...times(6, (i) => el('path', { d: `M${i} 0 L24 24 L0 24Z`, fill: 'url(#grad)' })));
    const gradient = el('linearGradient', { id: 'grad' }, el('stop', { offset: 0 }), el('stop', { offset: 1 }));
    const clip = el('clipPath', { id: 'round' }, el('circle', { r: 12 }));
    const shadow = el('filter', { id: 'shadow' }, el('feGaussianBlur', { stdDeviation: 2 }), el('feOffset', { dx: 1 }), el('feMerge', {}, el('feMergeNode'), el('feMergeNode', { in: 'SourceGraphic' })));
    const uses = times(500, (i) => el('use', { href: '#icon', x: i, 'clip-path': 'url(#round)', filter: i % 10 === 0 ? 'url(#shadow)' : 'none' }));
    const verdict = measureSvg(svg(el('defs', {}, icon, gradient, clip, shadow), ...uses));
    expect(verdict.ok).toBe(true);
    expect(verdict.ok && verdict.elements).toBeLessThan(20_000);
  });

  it('passes a large map: 20000 shapes filled with one gradient, a <use> cycle drawn as nothing', () => {
    const shapes = times(20_000, (i) => el('path', { d: `M${i} 0h1v1z`, fill: 'url(#sea)' }));
    const cycle = el('g', { id: 'loop' }, el('use', { href: '#loop' }));
    const verdict = measureSvg(svg(el('linearGradient', { id: 'sea' }, el('stop'), el('stop')), el('g', {}, ...shapes), cycle));
    expect(verdict).toEqual({ ok: true, elements: 1 + 3 + 1 + 20_000 + 2 });
  });

  it('does not follow links (<a href>) or animation targets as drawings', () => {
    const defs = useLayers(4).children[0]!;
    const linked = measureSvg(svg(defs, el('a', { href: '#l3' }, el('rect')), el('animate', { href: '#l3', attributeName: 'opacity', to: 0 })));
    const unlinked = measureSvg(svg(defs, el('a', {}, el('rect')), el('animate', { attributeName: 'opacity', to: 0 })));
    expect(linked).toMatchObject({ ok: true });
    expect(linked).toEqual(unlinked);
    expect(measureSvg(svg(defs, el('use', { href: '#l3' })))).not.toEqual(unlinked);
  });
});
