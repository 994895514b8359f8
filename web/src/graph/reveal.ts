// Keeping a node in sight: how far to pan the canvas so that a node's box
// lies inside the part of the canvas nothing covers (the floating inspector
// covers its right side). Screen pixels in, screen pixels out; the editor
// adds the shift to the viewport. Pure.

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/** The canvas minus what the overlay covers on its right (with a margin). */
export function visibleArea(canvas: Box, overlay: Box | null, margin = 16): Box {
  const inner = { left: canvas.left + margin, top: canvas.top + margin, right: canvas.right - margin, bottom: canvas.bottom - margin };
  if (!overlay || overlay.left >= canvas.right || overlay.right <= canvas.left) return inner;
  return { ...inner, right: Math.max(inner.left, overlay.left - margin) };
}

/**
 * The pan (dx, dy) that brings `node` inside `area`, or null when it already
 * is. Along an axis where the node does not fit, it is centred.
 */
export function revealShift(node: Box, area: Box): { dx: number; dy: number } | null {
  const axis = (lo: number, hi: number, min: number, max: number) => {
    if (hi - lo > max - min) return (min + max) / 2 - (lo + hi) / 2;
    if (lo < min) return min - lo;
    if (hi > max) return max - hi;
    return 0;
  };
  const dx = axis(node.left, node.right, area.left, area.right);
  const dy = axis(node.top, node.bottom, area.top, area.bottom);
  return dx === 0 && dy === 0 ? null : { dx, dy };
}
