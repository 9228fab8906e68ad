/** Strokes that paint simple shapes, for tests. */

import type { Stroke } from '../../../../src/shared/regions/layout';

export interface Area {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/**
 * Fills a rectangle (image fractions) with horizontal strokes of width
 * `brush`, staying inside it except where it touches the image edge.
 */
export function fillRect(region: number, a: Area, brush = 1 / 32): Stroke[] {
  const r = brush / 2;
  const inset = (v: number, edge: boolean, sign: number) =>
    edge ? v - sign * brush : v + sign * r;
  const x0 = inset(a.x0, a.x0 <= 0, 1);
  const x1 = inset(a.x1, a.x1 >= 1, -1);
  const strokes: Stroke[] = [];
  for (let y = a.y0 + r; y < a.y1; y += r) {
    strokes.push({
      region,
      erase: false,
      points: [
        { x: x0, y: Math.min(y, a.y1 - r), width: brush },
        { x: x1, y: Math.min(y, a.y1 - r), width: brush },
      ],
    });
  }
  return strokes;
}
