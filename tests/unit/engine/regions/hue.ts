/** Colour measurements on RGBA images, for checking where colours landed. */

export interface HueStats {
  /** Circular mean hue in degrees [0, 360) of the saturated pixels; NaN when none. */
  hue: number;
  /** Fraction of the area's pixels that are saturated (s > 0.35, v > 0.25). */
  coloured: number;
}

export function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = ((g - b) / d) % 6;
    else if (max === g) h = (b - r) / d + 2;
    else h = (r - g) / d + 4;
  }
  return [(h * 60 + 360) % 360, max === 0 ? 0 : d / max, max / 255];
}

/** Hue statistics of the pixels in [x0, x1) x [y0, y1) (fractions of the image). */
export function hueStats(
  image: { width: number; height: number; data: Uint8ClampedArray },
  area: { x0: number; x1: number; y0: number; y1: number },
): HueStats {
  let sx = 0;
  let sy = 0;
  let n = 0;
  let total = 0;
  const { width, height, data } = image;
  for (let y = Math.floor(area.y0 * height); y < Math.floor(area.y1 * height); y++)
    for (let x = Math.floor(area.x0 * width); x < Math.floor(area.x1 * width); x++) {
      const i = (y * width + x) * 4;
      const [h, s, v] = rgbToHsv(data[i]!, data[i + 1]!, data[i + 2]!);
      total++;
      if (s < 0.35 || v < 0.25) continue;
      sx += Math.cos((h * Math.PI) / 180);
      sy += Math.sin((h * Math.PI) / 180);
      n++;
    }
  const hue = n ? ((Math.atan2(sy, sx) * 180) / Math.PI + 360) % 360 : NaN;
  return { hue, coloured: total ? n / total : 0 };
}

/** Hue ranges (degrees) for colour words, wide enough for emoji palettes. */
export const HUES: Record<string, [number, number]> = {
  red: [335, 22],
  orange: [18, 36],
  yellow: [36, 70],
  green: [70, 165],
  blue: [180, 255],
  purple: [260, 320],
};

export function hueIs(hue: number, colour: string): boolean {
  const range = HUES[colour];
  if (!range || Number.isNaN(hue)) return false;
  const [lo, hi] = range;
  return lo <= hi ? hue >= lo && hue <= hi : hue >= lo || hue <= hi;
}
