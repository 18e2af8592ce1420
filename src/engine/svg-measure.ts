/**
 * What an SVG expands to when drawn, measured before it is drawn. A few KB of <use> elements that
 * reference each other in layers (each layer ten uses of the one below) expand to billions of
 * nodes: drawing one hung the engine document's thread for good. Here the drawing is walked as
 * the renderer would build it, multiplying through every reference, and refused past a limit.
 *
 * Pure: it reads a minimal element interface that DOM elements satisfy, so the engine's document
 * hands it what DOMParser parsed (svg-document.ts) and unit tests hand it generated trees.
 * The count is an upper bound: where Spotter cannot tell whether a reference applies (a style
 * sheet rule, an animation), it counts it as applying.
 */

/** The part of a DOM element the measure reads. */
export interface SvgNode {
  readonly localName: string;
  readonly namespaceURI: string | null;
  readonly attributes: ArrayLike<{ readonly localName: string; readonly value: string }>;
  readonly children: ArrayLike<SvgNode>;
  readonly textContent: string | null;
}

export interface SvgMeasureOptions {
  /** Style-sheet declarations that may apply to the element ("fill: url(#p); mask: url(#m)"); none by default. */
  sheetStyle?: (node: SvgNode) => string;
  /** Parses an SVG document nested as a data: URL (an <image> of an SVG); null if it does not parse. */
  parse?: (svgText: string) => SvgNode | null;
  /** Why a raster picture nested as a data: URL is too large to decode, or null. */
  rasterProblem?: (bytes: Uint8Array) => string | null;
  maxElements?: number;
}

export type SvgVerdict = { ok: true; elements: number } | { ok: false; message: string };

/** Far more than any real drawing (a detailed map has tens of thousands); drawing this many takes seconds. */
export const MAX_SVG_ELEMENTS = 200_000;
/** An SVG picture inside an SVG picture inside …: deeper than this is refused. */
export const MAX_NESTED_SVG_DEPTH = 3;
/**
 * A filter primitive works over every pixel of its region, far more than one shape costs to
 * draw: each counts this many times over.
 */
export const FILTER_PRIMITIVE_WEIGHT = 16;
/** Filter settings whose cost grows with the value: past these, one filter is seconds of work per pixel row. */
export const FILTER_LIMITS = { convolveKernelEntries: 256, morphologyRadius: 100, turbulenceOctaves: 24 } as const;

export const svgExpansionMessage = (limit: number) => `This SVG is built to expand to more than ${limit.toLocaleString('en-US')} elements: Spotter does not draw it.`;
export const SVG_FOREIGN_OBJECT_MESSAGE = 'This SVG embeds HTML (a <foreignObject> element): Spotter does not draw SVGs that do.';
export const SVG_NESTING_MESSAGE = `This SVG holds SVG pictures nested more than ${MAX_NESTED_SVG_DEPTH} deep: Spotter does not draw it.`;
/** An SVG picture inside that does not parse here may still draw there (its renderer may read it otherwise): refused, not counted as nothing. */
export const SVG_UNREADABLE_NESTED_MESSAGE = 'This SVG holds an SVG picture that Spotter cannot read: Spotter does not draw it.';
const filterMessage = (what: string) => `This SVG asks for a filter too heavy to draw (${what}): Spotter does not draw it.`;

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Painted with fill and stroke: each pays for the paint servers (patterns) it inherits. */
const PAINTED = new Set(['path', 'rect', 'circle', 'ellipse', 'line', 'polyline', 'polygon', 'text', 'tspan', 'textPath']);
/** Draw markers at their vertices. */
const MARKED = new Set(['path', 'line', 'polyline', 'polygon']);
/** Elements whose href names something that is drawn, or copied, where they are. (Not <a>: a link; not animations: their target.) */
const DRAWING_HREF = new Set(['use', 'pattern', 'linearGradient', 'radialGradient', 'feImage', 'image', 'textPath', 'tref', 'filter']);
const ANIMATIONS = new Set(['set', 'animate', 'animateColor', 'animateTransform', 'animateMotion']);
const PAINT_PROPERTIES = ['fill', 'stroke'] as const;
const MARKER_PROPERTIES = ['marker-start', 'marker-mid', 'marker-end'] as const;
/** Not inherited: each applies once, to the element that names it. */
const OWN_PROPERTIES = ['mask', 'clip-path', 'filter'] as const;
const ALL_PROPERTIES: readonly string[] = [...PAINT_PROPERTIES, ...MARKER_PROPERTIES, ...OWN_PROPERTIES, 'marker', 'href'];

class Refused extends Error {}

/** What the SVG expands to, or why Spotter will not draw it. */
export function measureSvg(root: SvgNode, options: SvgMeasureOptions = {}): SvgVerdict {
  try {
    return { ok: true, elements: new Measure(options, 0, new Map()).total(root) };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, message: error.message };
    throw error;
  }
}

/** The references one element makes, by property, after its own attributes, style and animations. */
interface Declared {
  paint: string[];
  markerStart: string[];
  markerMid: string[];
  markerEnd: string[];
  own: string[];
  /** Where an href (or an animation of it) points: #ids in this document, or data: URLs. */
  href: string[];
}

const emptyDeclared = (): Declared => ({ paint: [], markerStart: [], markerMid: [], markerEnd: [], own: [], href: [] });
const REFERENCING_PROPERTIES: ReadonlySet<string> = new Set([...PAINT_PROPERTIES, ...MARKER_PROPERTIES, ...OWN_PROPERTIES]);

interface Dependency {
  node: number;
  context: Context;
  times: number;
}

/** Inherited references (fill, stroke, markers) as they reach an element; keyed for memoising. */
interface Context {
  paint: readonly string[];
  markerStart: readonly string[];
  markerMid: readonly string[];
  markerEnd: readonly string[];
  key: string;
  /** Small and unique per measure: memo keys are numbers, not strings (a 100k-element drawing makes 100k of them). */
  id: number;
}

const NO_CONTEXT: Context = { paint: [], markerStart: [], markerMid: [], markerEnd: [], key: '', id: 0 };
/** More elements than any measure keeps (the limit), as a power of two: node + context id x this is unique. */
const KEY_STRIDE = 2 ** 22;

class Measure {
  private readonly limit: number;
  private readonly nodes: SvgNode[] = [];
  private readonly byId = new Map<string, number>();
  /** The context each element's ancestors give it: where a resource's content inherits from. */
  private readonly definitionContext: Context[] = [];
  /** Per element; null (most elements) where it references nothing. */
  private readonly declared: (Declared | null)[] = [];
  private readonly children: number[][] = [];
  private readonly parents: number[] = [];
  /** Ids named in custom properties: a var() in a relevant property may stand for any of them. */
  private readonly variableIds = new Set<string>();
  /** Contexts made once and shared: a map's 20000 shapes that inherit one fill share one. */
  private readonly contexts = new Map<string, Context>();
  /** Declarations by what they were read from, and the context each makes inside a context (by its id). */
  private readonly interned = new Map<string, Declared>();
  private readonly inside = new Map<Declared, Map<number, Context>>();

  constructor(
    private readonly options: SvgMeasureOptions,
    private readonly depth: number,
    /** Nested documents measured already, by their data: URL (shared down the nesting). */
    private readonly nested: Map<string, number>,
  ) {
    this.limit = Math.min(options.maxElements ?? MAX_SVG_ELEMENTS, KEY_STRIDE - 1);
  }

  total(root: SvgNode): number {
    this.collect(root);
    this.declare();
    return this.expand(0, NO_CONTEXT);
  }

  /** Lists the elements in document order (no recursion: a parsed tree can be deeper than the stack). */
  private collect(root: SvgNode): void {
    const pending: SvgNode[] = [root];
    const pendingParents: number[] = [-1];
    while (pending.length > 0) {
      const node = pending.pop()!;
      const parent = pendingParents.pop()!;
      if (node.localName === 'foreignObject') throw new Refused(SVG_FOREIGN_OBJECT_MESSAGE);
      const at = this.nodes.length;
      if (at >= this.limit) throw new Refused(svgExpansionMessage(this.limit));
      this.nodes.push(node);
      this.children.push([]);
      this.parents.push(parent);
      if (parent >= 0) this.children[parent]!.push(at);
      const id = attribute(node, 'id');
      // The first element with an id is the one references reach, as getElementById finds it.
      if (id && !this.byId.has(id)) this.byId.set(id, at);
      checkFilterPrimitive(node);
      for (let i = node.children.length - 1; i >= 0; i--) {
        pending.push(node.children[i]!);
        pendingParents.push(at);
      }
    }
  }

  private declare(): void {
    const sheetStyle = this.options.sheetStyle;
    const sheets = sheetStyle ? this.nodes.map((node) => sheetStyle(node)) : null;
    const variables = (text: string | null | undefined) => {
      if (!text?.includes('--')) return;
      for (const match of text.matchAll(/--[\w-]+\s*:([^;}]*)/g)) for (const id of localUrlIds(match[1]!)) this.variableIds.add(id);
    };
    this.nodes.forEach((node, at) => {
      variables(attribute(node, 'style'));
      variables(sheets?.[at]);
      if (node.localName === 'style') variables(node.textContent);
    });
    this.nodes.forEach((node, at) => this.declared.push(this.ownDeclarations(node, sheets?.[at] ?? '')));
    // Animations change their target: the parent, or what their href names.
    this.nodes.forEach((node, at) => {
      if (!ANIMATIONS.has(node.localName)) return;
      const property = attribute(node, 'attributeName')?.replace(/^xlink:/, '');
      if (!property || !ALL_PROPERTIES.includes(property)) return;
      const target = this.animationTarget(node, at);
      if (target === null) return;
      const values = ['to', 'from', 'by', 'values'].map((key) => attribute(node, key) ?? '').join(';');
      // A copy: declarations are shared between elements that say the same.
      const declared = structuredClone(this.declared[target] ?? emptyDeclared());
      if (property === 'href') declared.href.push(...values.split(';').map((value) => value.trim()).filter(Boolean));
      else addDeclaration(declared, property, values, this.variableIds);
      this.declared[target] = declared;
    });
    // The inherited context of each element, from its ancestors (document order: parents first).
    this.definitionContext[0] = NO_CONTEXT;
    this.nodes.forEach((_, at) => {
      const inside = this.withOwn(this.definitionContext[at]!, at);
      for (const child of this.children[at]!) this.definitionContext[child] = inside;
    });
  }

  private animationTarget(node: SvgNode, at: number): number | null {
    const href = hrefsOf(node)[0];
    if (href?.startsWith('#')) return this.byId.get(decodeId(href.slice(1))) ?? null;
    const parent = this.parents[at]!;
    return parent >= 0 ? parent : null;
  }

  /** What the element references; elements that say the same (a map's shapes all filled with one gradient) share one object. */
  private ownDeclarations(node: SvgNode, sheet: string): Declared | null {
    let source = '';
    for (let i = 0; i < node.attributes.length; i++) {
      const { localName, value } = node.attributes[i]!;
      if (REFERENCING_PROPERTIES.has(localName) && /url\(|var\(/i.test(value)) source += `${localName}:${value};`;
    }
    for (const text of [attribute(node, 'style'), sheet]) if (text && /url\(|var\(/i.test(text)) source += `;${text};`;
    const hrefs = DRAWING_HREF.has(node.localName) ? hrefsOf(node) : [];
    for (const href of hrefs) source += `\nhref:${href}`;
    if (source === '') return null;
    const known = this.interned.get(source);
    if (known) return known;
    const declared = emptyDeclared();
    for (const match of source.matchAll(/(?:^|[;{\s])(fill|stroke|marker(?:-start|-mid|-end)?|mask|clip-path|filter)\s*:([^;}\n]*)/gi)) {
      addDeclaration(declared, match[1]!.toLowerCase(), match[2]!, this.variableIds);
    }
    declared.href.push(...hrefs.map((href) => href.trim()).filter(Boolean));
    this.interned.set(source, declared);
    return declared;
  }

  /** The context inside element `at`: what reaches it, and what it adds for its content. */
  private withOwn(context: Context, at: number): Context {
    const declared = this.declared[at];
    if (!declared || declared.paint.length + declared.markerStart.length + declared.markerMid.length + declared.markerEnd.length === 0) return context;
    let byContext = this.inside.get(declared);
    if (!byContext) this.inside.set(declared, (byContext = new Map()));
    let inside = byContext.get(context.id);
    if (!inside) byContext.set(context.id, (inside = this.merged(context, declared)));
    return inside;
  }

  private merged(context: Context, declared: Declared): Context {
    // Union, not override: whether the element's own value wins (specificity, !important) is not worked out here.
    const merge = (a: readonly string[], b: readonly string[]) => (b.every((id) => a.includes(id)) ? a : [...new Set([...a, ...b])].sort());
    const paint = merge(context.paint, declared.paint);
    const markerStart = merge(context.markerStart, declared.markerStart);
    const markerMid = merge(context.markerMid, declared.markerMid);
    const markerEnd = merge(context.markerEnd, declared.markerEnd);
    const key = `${paint.join(',')}/${markerStart.join(',')}/${markerMid.join(',')}/${markerEnd.join(',')}`;
    if (key === context.key) return context;
    let made = this.contexts.get(key);
    if (!made) this.contexts.set(key, (made = { paint, markerStart, markerMid, markerEnd, key, id: this.contexts.size + 1 }));
    return made;
  }

  /**
   * The elements that drawing node `start` in context `context` builds, itself included, through
   * every reference. Iterative, memoised per element and context; a reference back into what is
   * being built is a cycle, which browsers do not draw, so it counts nothing.
   */
  private expand(start: number, context: Context): number {
    interface Frame {
      key: number;
      /** How many times over the element that needs this one draws it. */
      times: number;
      sum: number;
      /** The element's children (drawn in the context inside it), then what it references. */
      children: readonly number[];
      inside: Context;
      references: Dependency[];
      next: number;
    }
    const memo = new Map<number, number>();
    const building = new Set<number>();
    const frameFor = (node: number, at: Context, times: number): Frame => {
      const key = node + at.id * KEY_STRIDE;
      building.add(key);
      // Each distinct element-in-context is at least one element of the drawing: this bounds the work too.
      if (building.size + memo.size > this.limit) throw new Refused(svgExpansionMessage(this.limit));
      const inside = this.withOwn(at, node);
      const { references, extra } = this.references(node, inside);
      return { key, times, sum: this.capped(1 + extra), children: this.children[node]!, inside, references, next: 0 };
    };
    const stack: Frame[] = [frameFor(start, context, 1)];
    let result = 0;
    while (stack.length > 0) {
      const frame = stack.at(-1)!;
      const childCount = frame.children.length;
      if (frame.next < childCount + frame.references.length) {
        const index = frame.next++;
        const dep = index < childCount ? null : frame.references[index - childCount]!;
        const node = dep ? dep.node : frame.children[index]!;
        const at = dep ? dep.context : frame.inside;
        const times = dep ? dep.times : 1;
        const key = node + at.id * KEY_STRIDE;
        const known = memo.get(key);
        if (known !== undefined) frame.sum = this.capped(frame.sum + known * times);
        else if (!building.has(key)) stack.push(frameFor(node, at, times));
        continue;
      }
      stack.pop();
      building.delete(frame.key);
      memo.set(frame.key, frame.sum);
      const parent = stack.at(-1);
      if (parent) parent.sum = this.capped(parent.sum + frame.sum * frame.times);
      else result = frame.sum;
    }
    return result;
  }

  /** Past the limit the exact count no longer matters (and must not overflow). */
  private capped(count: number): number {
    if (count > this.limit) throw new Refused(svgExpansionMessage(this.limit));
    return count;
  }

  /** What drawing one element also draws (beyond its children), and what it costs beyond itself. */
  private references(at: number, inside: Context): { references: Dependency[]; extra: number } {
    const node = this.nodes[at]!;
    const declared = this.declared[at];
    const references: Dependency[] = [];
    let extra = isFilterPrimitive(node) ? FILTER_PRIMITIVE_WEIGHT : 0;
    const resource = (id: string, times: number, only?: string) => {
      const target = this.byId.get(id);
      if (target === undefined || (only !== undefined && this.nodes[target]!.localName !== only)) return;
      references.push({ node: target, context: this.definitionContext[target]!, times });
    };
    // A gradient is one shader however many shapes use it; a pattern's content is drawn for each.
    if (inside.paint.length > 0 && PAINTED.has(node.localName)) for (const id of inside.paint) resource(id, 1, 'pattern');
    if (MARKED.has(node.localName)) {
      for (const id of inside.markerStart) resource(id, 1);
      for (const id of inside.markerEnd) resource(id, 1);
      if (inside.markerMid.length > 0) {
        const vertices = vertexCount(node);
        for (const id of inside.markerMid) resource(id, vertices);
      }
    }
    if (!declared) return { references, extra };
    for (const id of declared.own) resource(id, 1);
    for (const href of declared.href) {
      if (href.startsWith('#')) {
        const target = this.byId.get(decodeId(href.slice(1)));
        // A use builds a copy of its target that inherits from the use; other references draw the target as defined.
        if (target !== undefined) references.push({ node: target, context: node.localName === 'use' ? inside : this.definitionContext[target]!, times: 1 });
      } else if (/^data:/i.test(href)) extra += this.nestedDocument(href);
    }
    return { references, extra };
  }

  /** An SVG (or raster picture) inside this one, as a data: URL: measured in its turn, once per URL. */
  private nestedDocument(url: string): number {
    const known = this.nested.get(url);
    if (known !== undefined) return known;
    const data = dataUrlContent(url);
    let cost = 0;
    if (data?.type === 'image/svg+xml') {
      if (this.depth + 1 > MAX_NESTED_SVG_DEPTH) throw new Refused(SVG_NESTING_MESSAGE);
      const nestedRoot = this.options.parse?.(svgText(data.bytes, data.charset)) ?? null;
      if (!nestedRoot) throw new Refused(SVG_UNREADABLE_NESTED_MESSAGE);
      cost = new Measure(this.options, this.depth + 1, this.nested).total(nestedRoot);
    } else if (data && this.options.rasterProblem) {
      const problem = this.options.rasterProblem(data.bytes);
      if (problem) throw new Refused(`${problem} It is a picture inside this SVG.`);
    }
    this.nested.set(url, cost);
    return cost;
  }
}

function addDeclaration(declared: Declared, property: string, value: string, variableIds: ReadonlySet<string>): void {
  const ids = localUrlIds(value);
  if (/\bvar\(/i.test(value)) ids.push(...variableIds);
  if (ids.length === 0) return;
  if (property === 'fill' || property === 'stroke') declared.paint.push(...ids);
  else if (property === 'marker-start') declared.markerStart.push(...ids);
  else if (property === 'marker-mid') declared.markerMid.push(...ids);
  else if (property === 'marker-end') declared.markerEnd.push(...ids);
  else if (property === 'marker') {
    declared.markerStart.push(...ids);
    declared.markerMid.push(...ids);
    declared.markerEnd.push(...ids);
  } else declared.own.push(...ids);
}

/** The ids of url(#id) references in a property value. */
function localUrlIds(value: string): string[] {
  return [...value.matchAll(/url\(\s*(["']?)\s*#([^"')\s]+)\s*\1\s*\)/gi)].map((match) => decodeId(match[2]!));
}

function decodeId(id: string): string {
  if (!id.includes('%')) return id;
  try {
    return decodeURIComponent(id);
  } catch {
    return id;
  }
}

function attribute(node: SvgNode, name: string): string | null {
  for (let i = 0; i < node.attributes.length; i++) {
    const attr = node.attributes[i]!;
    if (attr.localName === name) return attr.value;
  }
  return null;
}

/** href and the older xlink:href (same local name): both are counted, whichever the renderer prefers. */
function hrefsOf(node: SvgNode): string[] {
  const hrefs: string[] = [];
  for (let i = 0; i < node.attributes.length; i++) if (node.attributes[i]!.localName === 'href') hrefs.push(node.attributes[i]!.value);
  return hrefs;
}

/** How many vertices markers go on: a mid marker is drawn at every one. */
function vertexCount(node: SvgNode): number {
  const data = node.localName === 'path' ? attribute(node, 'd') : node.localName === 'line' ? '0 0 0 0' : attribute(node, 'points');
  const numbers = data?.match(/[-+]?(?:\d*\.\d+|\d+\.?)(?:e[-+]?\d+)?/gi)?.length ?? 0;
  return Math.max(1, Math.ceil(numbers / 2));
}

const isFilterPrimitive = (node: SvgNode) => node.localName.startsWith('fe') && node.namespaceURI === SVG_NS;

/** The filter settings whose cost grows with their value. */
function checkFilterPrimitive(node: SvgNode): void {
  if (!isFilterPrimitive(node)) return;
  // A value that is no number puts the filter in error: browsers draw nothing for it.
  const numbers = (name: string) => (attribute(node, name) ?? '').split(/[\s,]+/).filter(Boolean).map(Number).filter(Number.isFinite);
  if (node.localName === 'feConvolveMatrix') {
    const [x = 3, y = x] = numbers('order');
    if (!(x * y <= FILTER_LIMITS.convolveKernelEntries)) throw new Refused(filterMessage(`a ${x} x ${y} convolution`));
  } else if (node.localName === 'feMorphology') {
    const [x = 0, y = x] = numbers('radius');
    if (!(Math.max(x, y) <= FILTER_LIMITS.morphologyRadius)) throw new Refused(filterMessage(`a morphology radius of ${Math.max(x, y)}`));
  } else if (node.localName === 'feTurbulence') {
    const [octaves = 1] = numbers('numOctaves');
    if (!(octaves <= FILTER_LIMITS.turbulenceOctaves)) throw new Refused(filterMessage(`turbulence of ${octaves} octaves`));
  }
}

/**
 * A data: URL's type, charset and bytes, decoded as browsers decode them (the fetch standard's
 * data: URL processor): the fragment dropped, percent-escapes that are not escapes kept as they
 * are, base64 forgiving of whitespace and missing padding. Null where a browser gets nothing.
 */
export function dataUrlContent(url: string): { type: string; charset: string | null; bytes: Uint8Array } | null {
  const hash = url.indexOf('#');
  const whole = hash < 0 ? url : url.slice(0, hash);
  const comma = whole.indexOf(',');
  if (comma < 0 || !/^data:/i.test(whole)) return null;
  const params = whole.slice(5, comma).split(';').map((part) => part.trim());
  const type = (params[0] || 'text/plain').toLowerCase();
  const charset = params.find((part) => /^charset=/i.test(part))?.slice(8).replace(/^"|"$/g, '') ?? null;
  let bytes = percentDecode(whole.slice(comma + 1));
  if (params.slice(1).some((part) => part.toLowerCase() === 'base64')) {
    try {
      const binary = atob(new TextDecoder('latin1').decode(bytes).replace(/[\t\n\f\r ]/g, ''));
      bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    } catch {
      return null;
    }
  }
  return { type, charset, bytes };
}

function percentDecode(text: string): Uint8Array {
  const source = new TextEncoder().encode(text);
  const out = new Uint8Array(source.length);
  const hex = (byte: number) => (byte >= 48 && byte <= 57 ? byte - 48 : byte >= 65 && byte <= 70 ? byte - 55 : byte >= 97 && byte <= 102 ? byte - 87 : -1);
  let length = 0;
  for (let i = 0; i < source.length; i++) {
    const high = source[i] === 37 ? hex(source[i + 1] ?? 0) : -1;
    const low = high >= 0 ? hex(source[i + 2] ?? 0) : -1;
    if (low >= 0) {
      out[length++] = high * 16 + low;
      i += 2;
    } else out[length++] = source[i]!;
  }
  return out.subarray(0, length);
}

/**
 * An SVG's bytes as text, in the encoding its renderer would read them in: a byte-order mark
 * first, then the charset it was served with, then its XML declaration, else UTF-8.
 */
export function svgText(bytes: Uint8Array, charset: string | null): string {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 'utf-8' : bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : null;
  const declared = /^<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/.exec(new TextDecoder('latin1').decode(bytes.subarray(0, 200)))?.[1] ?? null;
  for (const label of [bom, charset, declared, 'utf-8']) {
    if (!label) continue;
    try {
      return new TextDecoder(label).decode(bytes);
    } catch {
      // A label the browser does not know either: the next source decides.
    }
  }
  return new TextDecoder().decode(bytes);
}
