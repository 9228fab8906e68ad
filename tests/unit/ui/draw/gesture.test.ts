import { describe, expect, it } from 'vitest';
import {
  createGesture,
  pointerDown,
  pointerMove,
  pointerUp,
  pressureFactor,
  type PointerInput,
  type PointerKind,
} from '../../../../src/ui/draw/gesture';

const FRAME = { width: 400, height: 400 };
const p = (id: number, kind: PointerKind, x: number, y: number, pressure = 0.5): PointerInput => ({
  id,
  kind,
  x,
  y,
  pressure,
});
const types = (actions: { type: string }[]) => actions.map((a) => a.type);

describe('gesture: one pointer draws', () => {
  it.each(['touch', 'pen', 'mouse'] as const)(
    '%s: start, move, end in image coordinates',
    (kind) => {
      const g = createGesture(FRAME, 0.1);
      const start = pointerDown(g, p(1, kind, 100, 200));
      expect(start).toEqual([
        { type: 'stroke-start', pointerId: 1, point: { x: 0.25, y: 0.5, width: 0.1 } },
      ]);
      expect(pointerMove(g, p(1, kind, 300, 200))).toEqual([
        { type: 'stroke-move', point: { x: 0.75, y: 0.5, width: 0.1 } },
      ]);
      expect(types(pointerUp(g, 1))).toEqual(['stroke-end']);
      expect(g.mode).toBe('idle');
      expect(g.pointers.size).toBe(0);
    },
  );

  it('ignores secondary mouse buttons and moves of unknown pointers', () => {
    const g = createGesture(FRAME, 0.1);
    expect(pointerDown(g, { ...p(1, 'mouse', 10, 10), button: 2 })).toEqual([]);
    expect(pointerMove(g, p(7, 'touch', 10, 10))).toEqual([]);
    expect(pointerUp(g, 7)).toEqual([]);
  });

  it('a cancelled pointer drops the stroke', () => {
    const g = createGesture(FRAME, 0.1);
    pointerDown(g, p(1, 'touch', 10, 10));
    expect(types(pointerUp(g, 1, true))).toEqual(['stroke-cancel']);
  });
});

describe('gesture: two fingers pan and zoom', () => {
  it('a second finger cancels the stroke and pinches instead', () => {
    const g = createGesture(FRAME, 0.1);
    pointerDown(g, p(1, 'touch', 100, 200));
    pointerMove(g, p(1, 'touch', 110, 200));
    expect(types(pointerDown(g, p(2, 'touch', 310, 200)))).toEqual(['stroke-cancel']);
    expect(g.mode).toBe('pinch');
    // Spread the fingers (200 px apart, centre 210) to twice the distance around the same centre.
    pointerMove(g, p(1, 'touch', 10, 200));
    const actions = pointerMove(g, p(2, 'touch', 410, 200));
    expect(types(actions)).toEqual(['view']);
    expect(g.view.scale).toBeCloseTo(2, 5);
    // The content that was under the centre (frame x 210 at 1x) stays under it.
    const centre = 210;
    const contentX = (centre - g.view.x) / g.view.scale;
    expect(contentX).toBeCloseTo(210, 5);
    // Lifting fingers never draws, even when one finger is left and moves.
    expect(pointerUp(g, 2)).toEqual([]);
    expect(pointerMove(g, p(1, 'touch', 50, 50))).toEqual([]);
    expect(pointerUp(g, 1)).toEqual([]);
    expect(g.mode).toBe('idle');
    // The next single finger draws again, mapped through the zoomed view.
    const [start] = pointerDown(g, p(3, 'touch', g.view.x + 200, g.view.y + 200));
    expect(start?.type).toBe('stroke-start');
    if (start?.type === 'stroke-start') {
      expect(start.point.x).toBeCloseTo(0.25, 5);
      expect(start.point.y).toBeCloseTo(0.25, 5);
    }
  });

  it('two fingers moving together pan a zoomed view, clamped to the image', () => {
    const g = createGesture(FRAME, 0.1);
    g.view = { scale: 2, x: -200, y: -200 };
    pointerDown(g, p(1, 'touch', 100, 100));
    pointerDown(g, p(2, 'touch', 200, 100));
    pointerMove(g, p(1, 'touch', 150, 130));
    pointerMove(g, p(2, 'touch', 250, 130));
    expect(g.view).toEqual({ scale: 2, x: -150, y: -170 });
    pointerMove(g, p(1, 'touch', 5000, 5000));
    pointerMove(g, p(2, 'touch', 5100, 5000));
    expect(g.view.x).toBe(0);
    expect(g.view.y).toBe(0);
  });

  it('zoom stays between 1x and 8x', () => {
    const g = createGesture(FRAME, 0.1);
    pointerDown(g, p(1, 'touch', 190, 200));
    pointerDown(g, p(2, 'touch', 210, 200));
    pointerMove(g, p(1, 'touch', 0, 200));
    pointerMove(g, p(2, 'touch', 400, 200));
    expect(g.view.scale).toBe(8);
    pointerMove(g, p(1, 'touch', 199, 200));
    pointerMove(g, p(2, 'touch', 201, 200));
    expect(g.view.scale).toBe(1);
  });
});

describe('gesture: pen and palm', () => {
  it('touches are ignored while a pen is down', () => {
    const g = createGesture(FRAME, 0.1);
    pointerDown(g, p(1, 'pen', 100, 100));
    expect(pointerDown(g, p(2, 'touch', 300, 300))).toEqual([]);
    expect(pointerDown(g, p(3, 'touch', 320, 300))).toEqual([]);
    expect(pointerMove(g, p(2, 'touch', 310, 310))).toEqual([]);
    expect(types(pointerMove(g, p(1, 'pen', 120, 100)))).toEqual(['stroke-move']);
    expect(types(pointerUp(g, 1))).toEqual(['stroke-end']);
    expect(g.mode).toBe('idle');
  });

  it('a pen landing during a touch stroke cancels it (the touch was the palm)', () => {
    const g = createGesture(FRAME, 0.1);
    pointerDown(g, p(1, 'touch', 300, 300));
    expect(types(pointerDown(g, p(2, 'pen', 100, 100)))).toEqual(['stroke-cancel', 'stroke-start']);
    expect(pointerMove(g, p(1, 'touch', 310, 310))).toEqual([]);
    expect(types(pointerMove(g, p(2, 'pen', 110, 100)))).toEqual(['stroke-move']);
  });

  it('pen pressure scales the width; other pointers ignore pressure', () => {
    expect(pressureFactor('pen', 0)).toBe(0.25);
    expect(pressureFactor('pen', 0.5)).toBe(1);
    expect(pressureFactor('pen', 1)).toBe(1.75);
    expect(pressureFactor('touch', 1)).toBe(1);
    expect(pressureFactor('mouse', 0)).toBe(1);
    const g = createGesture(FRAME, 0.1);
    pointerDown(g, p(1, 'pen', 100, 100, 0.1));
    const [light] = pointerMove(g, p(1, 'pen', 110, 100, 0.1));
    const [heavy] = pointerMove(g, p(1, 'pen', 120, 100, 0.9));
    if (light?.type !== 'stroke-move' || heavy?.type !== 'stroke-move') throw new Error('no moves');
    expect(heavy.point.width).toBeGreaterThan(light.point.width * 3);
  });
});
