/**
 * What the drawing canvas shows, computed without a canvas: the stroke under
 * the finger is painted segment by segment, a finished stroke is added to its
 * region's layer (so the cost of a stroke does not grow with the drawing),
 * other history changes (undo, clear, a deleted region) rasterise the layers
 * again, and the result is composited into RGBA bytes.
 */

import { paintSegment, paintStroke, rasterizeRegion, type Size } from '../../shared/regions/masks';
import { parseColour } from '../../shared/regions/sketch';
import type { Stroke } from '../../shared/regions/layout';
import { visibleStrokes, type Drawing } from './strokes';

export class DrawingRaster {
  readonly pixels: Uint8ClampedArray<ArrayBuffer>;
  private history: Drawing['history'] | null = null;
  private layers = new Map<number, Float32Array>();
  private activeStroke: Stroke | null = null;
  private activeLayer: Float32Array | null = null;
  private painted = 0;
  /** Full re-rasterisations so far (tests check that drawing does not cause them). */
  fullRasters = 0;

  constructor(readonly size: Size) {
    this.pixels = new Uint8ClampedArray(size.width * size.height * 4);
  }

  /** Brings the pixels up to date with `d`; returns them. */
  render(d: Drawing): Uint8ClampedArray<ArrayBuffer> {
    if (d.history !== this.history) {
      const added = this.appendedStroke(d.history);
      if (added) this.addStroke(added);
      else {
        const strokes = visibleStrokes(d);
        this.layers = new Map(
          d.regions.map((r) => [r.id, rasterizeRegion(strokes, r.id, this.size)]),
        );
        this.fullRasters++;
      }
      this.history = d.history;
      this.activeStroke = null;
    }
    this.updateActive(d.active);
    this.composite(d);
    return this.pixels;
  }

  /** The one stroke `history` adds to the history last rendered, or null for any other change. */
  private appendedStroke(history: Drawing['history']): Stroke | null {
    const before = this.history;
    if (!before || history.length !== before.length + 1) return null;
    if (before.length > 0 && history[before.length - 1] !== before[before.length - 1]) return null;
    const last = history[before.length]!;
    return last.kind === 'stroke' ? last.stroke : null;
  }

  /** A finished stroke joins its layer: the live layer when it is that stroke, else painted now. */
  private addStroke(stroke: Stroke): void {
    if (this.activeStroke === stroke && this.activeLayer) {
      this.layers.set(stroke.region, this.activeLayer);
      return;
    }
    let layer = this.layers.get(stroke.region);
    if (!layer) {
      layer = new Float32Array(this.size.width * this.size.height);
      this.layers.set(stroke.region, layer);
    }
    paintStroke(layer, this.size, stroke);
  }

  private updateActive(active: Stroke | null): void {
    if (!active) {
      this.activeStroke = null;
      this.activeLayer = null;
      return;
    }
    let base = this.layers.get(active.region);
    if (!base) {
      base = new Float32Array(this.size.width * this.size.height);
      this.layers.set(active.region, base);
    }
    if (!this.activeStroke || this.activeStroke.points[0] !== active.points[0]) {
      this.activeLayer = base.slice();
      this.painted = 0;
    }
    this.activeStroke = active;
    const layer = this.activeLayer!;
    const value = active.erase ? 0 : 1;
    const pts = active.points;
    if (this.painted === 0 && pts.length > 0)
      paintSegment(layer, this.size, pts[0]!, pts[0]!, value);
    for (let i = Math.max(1, this.painted); i < pts.length; i++)
      paintSegment(layer, this.size, pts[i - 1]!, pts[i]!, value);
    this.painted = pts.length;
  }

  private composite(d: Drawing): void {
    this.pixels.fill(0);
    const n = this.size.width * this.size.height;
    for (const region of d.regions) {
      if (region.hidden) continue;
      const layer =
        this.activeStroke?.region === region.id && this.activeLayer
          ? this.activeLayer
          : this.layers.get(region.id);
      if (!layer) continue;
      const [r, g, b] = parseColour(region.colour);
      for (let i = 0; i < n; i++) {
        if (layer[i]! < 0.5) continue;
        this.pixels[i * 4] = r;
        this.pixels[i * 4 + 1] = g;
        this.pixels[i * 4 + 2] = b;
        this.pixels[i * 4 + 3] = 255;
      }
    }
  }
}
