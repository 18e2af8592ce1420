import type { ScreenArea } from '../shared/protocol';

/** An area in CSS px of some frame's viewport (width and height may be 0: not in view). */
export type FrameArea = Pick<ScreenArea, 'left' | 'top' | 'width' | 'height'>;

/**
 * A frame element's content box in the viewport of the document holding it: the framed page
 * starts inside the element's border and padding.
 */
export function contentBoxOf(frame: Element): FrameArea {
  const box = frame.getBoundingClientRect();
  // The frame element may belong to a parent document: its own window computes its style.
  const style = (frame.ownerDocument.defaultView ?? window).getComputedStyle(frame);
  const paddingLeft = parseFloat(style.paddingLeft);
  const paddingTop = parseFloat(style.paddingTop);
  return {
    left: box.left + frame.clientLeft + paddingLeft,
    top: box.top + frame.clientTop + paddingTop,
    width: Math.max(0, frame.clientWidth - paddingLeft - parseFloat(style.paddingRight)),
    height: Math.max(0, frame.clientHeight - paddingTop - parseFloat(style.paddingBottom)),
  };
}
