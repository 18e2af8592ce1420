import type { ScreenArea } from '../shared/protocol';

/** An area in CSS px of some frame's viewport (width and height may be 0: not in view). */
export type FrameArea = Pick<ScreenArea, 'left' | 'top' | 'width' | 'height'>;

/**
 * Where a framed page shows in the viewport of the document holding its frame element: the
 * element's content box as drawn, and how much one CSS px of the framed page is scaled there (by a
 * CSS transform or `zoom` on the element or above it).
 */
export interface FrameBox extends FrameArea {
  scaleX: number;
  scaleY: number;
}

/** Said where a frame on the way is turned: no box can then say which part of the screen shows the picture. */
export const TURNED_FRAME = 'This picture is in a frame that the page rotates, skews or mirrors: Spotter cannot tell which part of the screen shows it, so it cannot read it from there.';

/**
 * The box of a frame element whose page has a viewport of `viewport` (its innerWidth and
 * innerHeight: the element's content box in the element's own layout px, transforms and zoom left
 * out). null where the element or one holding it is rotated, skewed or mirrored.
 */
export function frameBoxOf(frame: Element, viewport: { width: number; height: number }): FrameBox | null {
  // The frame element may belong to a parent document: its own window computes its style.
  const view = frame.ownerDocument.defaultView ?? window;
  const style = view.getComputedStyle(frame);
  if (!isUpright(style)) return null;
  for (let element = flatParentOf(frame); element; element = flatParentOf(element)) {
    if (!isUpright(view.getComputedStyle(element))) return null;
  }
  const [borderLeft, paddingLeft, paddingRight, borderRight, borderTop, paddingTop, paddingBottom, borderBottom] = (
    ['borderLeftWidth', 'paddingLeft', 'paddingRight', 'borderRightWidth', 'borderTopWidth', 'paddingTop', 'paddingBottom', 'borderBottomWidth'] as const
  ).map((side) => parseFloat(style[side]));
  // The border box as drawn (transforms and zoom included) over the same box as laid out: borders and padding are scaled too.
  const drawn = frame.getBoundingClientRect();
  const scaleX = ratio(drawn.width, borderLeft! + paddingLeft! + viewport.width + paddingRight! + borderRight!);
  const scaleY = ratio(drawn.height, borderTop! + paddingTop! + viewport.height + paddingBottom! + borderBottom!);
  return {
    left: drawn.left + (borderLeft! + paddingLeft!) * scaleX,
    top: drawn.top + (borderTop! + paddingTop!) * scaleY,
    width: viewport.width * scaleX,
    height: viewport.height * scaleY,
    scaleX,
    scaleY,
  };
}

/**
 * An area of a framed page's viewport, in the viewport holding the frame whose box is `box`:
 * scaled, moved, and cut to that box, since no part of the page outside it is shown (0 wide or
 * high where none is).
 */
export function placedIn(area: FrameArea, box: FrameBox): FrameArea {
  const left = box.left + area.left * box.scaleX;
  const top = box.top + area.top * box.scaleY;
  const right = Math.min(left + area.width * box.scaleX, box.left + box.width);
  const bottom = Math.min(top + area.height * box.scaleY, box.top + box.height);
  const clippedLeft = Math.max(left, box.left);
  const clippedTop = Math.max(top, box.top);
  return { left: clippedLeft, top: clippedTop, width: Math.max(0, right - clippedLeft), height: Math.max(0, bottom - clippedTop) };
}

/**
 * Whether an element with these computed styles is only moved and scaled, each axis by itself,
 * the right way round: then a box says where its pixels are drawn. Otherwise it is rotated,
 * skewed, mirrored or turned in 3D (by `transform`, or the `rotate`, `scale` or `offset-path`
 * properties).
 */
export function isUpright({ transform, rotate, scale, offsetPath }: Pick<CSSStyleDeclaration, 'transform' | 'rotate' | 'scale' | 'offsetPath'>): boolean {
  const angle = parseFloat(rotate.split(' ').at(-1)!); // "45deg", "x 45deg" or "0 1 0 45deg"
  if ((rotate !== 'none' && angle !== 0) || (offsetPath && offsetPath !== 'none')) return false;
  if (scale !== 'none' && !scale.split(' ').slice(0, 2).every((factor) => parseFloat(factor) > 0)) return false;
  if (transform === 'none') return true;
  const matrix = /^matrix(3d)?\((.*)\)$/.exec(transform);
  if (!matrix) return false;
  const n = matrix[2]!.split(',').map(Number);
  // matrix(a, b, c, d, e, f) or matrix3d's 16 values, column by column.
  const [m11, m12, m21, m22, m13, m23, m14, m24] = matrix[1] ? [n[0], n[1], n[4], n[5], n[2], n[6], n[3], n[7]] : [n[0], n[1], n[2], n[3], 0, 0, 0, 0];
  // x from x alone, y from y alone, and z (which a perspective above turns into scale) the same all over the element.
  return m12 === 0 && m21 === 0 && m13 === 0 && m23 === 0 && m14 === 0 && m24 === 0 && m11! > 0 && m22! > 0;
}

const ratio = (drawn: number, laidOut: number) => (laidOut > 0 ? drawn / laidOut : 1);

/** The element that holds this one as drawn: across shadow roots, and through the slot it shows in. */
const flatParentOf = (element: Element): Element | null => element.assignedSlot ?? element.parentElement ?? (element.parentNode as ShadowRoot | null)?.host ?? null;
