/**
 * A region layout: the regions, their prompts and strengths, and the strokes
 * that paint them. Plain data, so it crosses the worker boundary as is and is
 * saved with each result (as JSON) to re-run or edit later.
 */

export interface LayoutPoint {
  /** Image coordinates, 0..1 across the width / height. */
  x: number;
  y: number;
  /** Brush width as a fraction of the image width. */
  width: number;
}

export interface Stroke {
  /** Id of the region whose layer this stroke paints (or erases). */
  region: number;
  erase: boolean;
  points: LayoutPoint[];
}

export interface Region {
  id: number;
  name: string;
  /** `#rrggbb`: the paint colour on screen, and the colour of a drawing used as starting image. */
  colour: string;
  prompt: string;
  /** 0..1: how much this region's prompt replaces the main prompt where painted. */
  strength: number;
  /** Hidden regions are neither shown nor used for generation. */
  hidden: boolean;
}

export interface StartImage {
  /** 0..1: 1 ignores the drawing, small values keep it. */
  strength: number;
}

export interface RegionLayout {
  version: 1;
  regions: Region[];
  /** In painting order, after the last clear. */
  strokes: Stroke[];
  /** Present when the drawing is used as the starting image. */
  startImage?: StartImage;
}

/** The JSON form: points packed as [x, y, width, x, y, width, ...] rounded to 1e-4. */
export interface RegionLayoutJson {
  version: 1;
  regions: Region[];
  strokes: { region: number; erase: boolean; points: number[] }[];
  startImage?: StartImage;
}

export class RegionLayoutError extends Error {
  readonly code = 'invalid-layout';
  constructor(message: string) {
    super(`This region layout cannot be read: ${message}.`);
    this.name = 'RegionLayoutError';
  }
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;

export function emptyLayout(): RegionLayout {
  return { version: 1, regions: [], strokes: [] };
}

/** Regions that take part in generation: visible, with a prompt, and painted somewhere. */
export function activeRegions(layout: RegionLayout): Region[] {
  const painted = new Set(layout.strokes.filter((s) => !s.erase).map((s) => s.region));
  return layout.regions.filter((r) => !r.hidden && r.prompt.trim() !== '' && painted.has(r.id));
}

export function encodeLayout(layout: RegionLayout): RegionLayoutJson {
  const out: RegionLayoutJson = {
    version: 1,
    regions: layout.regions.map((r) => ({ ...r })),
    strokes: layout.strokes.map((s) => ({
      region: s.region,
      erase: s.erase,
      points: s.points.flatMap((p) => [round(p.x), round(p.y), round(p.width)]),
    })),
  };
  if (layout.startImage) out.startImage = { strength: layout.startImage.strength };
  return out;
}

export function serializeLayout(layout: RegionLayout): string {
  return JSON.stringify(encodeLayout(layout));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown, what: string, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new RegionLayoutError(`${what} is not a number in [${min}, ${max}]`);
  return v;
}

function decodeRegion(v: unknown, i: number): Region {
  if (!isRecord(v)) throw new RegionLayoutError(`region ${i + 1} is not an object`);
  const colour = v.colour;
  if (typeof colour !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(colour))
    throw new RegionLayoutError(`region ${i + 1} has no #rrggbb colour`);
  if (typeof v.name !== 'string' || typeof v.prompt !== 'string')
    throw new RegionLayoutError(`region ${i + 1} has no name or prompt`);
  return {
    id: num(v.id, `region ${i + 1} id`, 0),
    name: v.name,
    colour: colour.toLowerCase(),
    prompt: v.prompt,
    strength: num(v.strength, `region ${i + 1} strength`, 0, 1),
    hidden: v.hidden === true,
  };
}

function decodeStroke(v: unknown, i: number, ids: Set<number>): Stroke {
  if (!isRecord(v)) throw new RegionLayoutError(`stroke ${i + 1} is not an object`);
  const region = num(v.region, `stroke ${i + 1} region`);
  if (!ids.has(region)) throw new RegionLayoutError(`stroke ${i + 1} paints a missing region`);
  const flat = v.points;
  if (!Array.isArray(flat) || flat.length === 0 || flat.length % 3 !== 0)
    throw new RegionLayoutError(`stroke ${i + 1} has malformed points`);
  const points: LayoutPoint[] = [];
  for (let k = 0; k < flat.length; k += 3)
    points.push({
      x: num(flat[k], 'a point', -10, 10),
      y: num(flat[k + 1], 'a point', -10, 10),
      width: num(flat[k + 2], 'a brush width', 0, 10),
    });
  return { region, erase: v.erase === true, points };
}

/** Accepts the JSON form (object or string); throws RegionLayoutError when it is not one. */
export function decodeLayout(input: unknown): RegionLayout {
  let v = input;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v) as unknown;
    } catch {
      throw new RegionLayoutError('it is not JSON');
    }
  }
  if (!isRecord(v) || v.version !== 1) throw new RegionLayoutError('unknown version');
  if (!Array.isArray(v.regions) || !Array.isArray(v.strokes))
    throw new RegionLayoutError('regions or strokes are missing');
  const regions = v.regions.map(decodeRegion);
  const ids = new Set(regions.map((r) => r.id));
  if (ids.size !== regions.length) throw new RegionLayoutError('two regions share an id');
  const layout: RegionLayout = {
    version: 1,
    regions,
    strokes: v.strokes.map((s, i) => decodeStroke(s, i, ids)),
  };
  if (isRecord(v.startImage))
    layout.startImage = { strength: num(v.startImage.strength, 'start image strength', 0, 1) };
  return layout;
}

export const parseLayout = (json: string): RegionLayout => decodeLayout(json);
