// Draws Gesso's app icons (a painted disc with a brush stroke on the theme
// colour) and writes them as PNGs into public/icons. Run: node scripts/make-icons.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BACKGROUND = [0x1d, 0x1b, 0x2e];

function crc32(bytes) {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// Colour of the icon at (u, v) in [0, 1]^2, artwork scaled by `scale` about the centre.
function shade(u, v, scale, rounded) {
  const x = (u - 0.5) / scale;
  const y = (v - 0.5) / scale;
  if (rounded) {
    const r = 0.22,
      half = 0.5;
    const dx = Math.max(Math.abs(u - 0.5) - (half - r), 0);
    const dy = Math.max(Math.abs(v - 0.5) - (half - r), 0);
    if (dx * dx + dy * dy > r * r) return [0, 0, 0, 0];
  }
  const d = Math.hypot(x, y);
  if (d < 0.36) {
    const t = Math.min(1, Math.max(0, (x + y + 0.5) / 1.0));
    const colour = [255 - 40 * t, 154 + 30 * (1 - t), 90 + 120 * t].map(Math.round);
    // A white brush stroke across the disc, thicker in the middle.
    const along = (x - y) / Math.SQRT2;
    const across = (x + y) / Math.SQRT2 + 0.04 * Math.sin(along * 9);
    if (Math.abs(across) < 0.07 * (1 - Math.abs(along) / 0.5) && Math.abs(along) < 0.3)
      return [250, 247, 240, 255];
    return [...colour, 255];
  }
  return [...BACKGROUND, 255];
}

function draw(size, scale, rounded) {
  const rgba = Buffer.alloc(size * size * 4);
  const samples = 4;
  for (let py = 0; py < size; py++)
    for (let px = 0; px < size; px++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < samples; sy++)
        for (let sx = 0; sx < samples; sx++) {
          const c = shade(
            (px + (sx + 0.5) / samples) / size,
            (py + (sy + 0.5) / samples) / size,
            scale,
            rounded,
          );
          for (let k = 0; k < 3; k++) acc[k] += c[k] * c[3];
          acc[3] += c[3];
        }
      const o = (py * size + px) * 4;
      const a = acc[3] / (samples * samples);
      for (let k = 0; k < 3; k++) rgba[o + k] = acc[3] ? Math.round(acc[k] / acc[3]) : 0;
      rgba[o + 3] = Math.round(a);
    }
  return encodePng(size, rgba);
}

const dir = new URL('../public/icons/', import.meta.url);
writeFileSync(new URL('icon-192.png', dir), draw(192, 1, true));
writeFileSync(new URL('icon-512.png', dir), draw(512, 1, true));
// Maskable: full-bleed background, artwork inside the 80% safe zone.
writeFileSync(new URL('maskable-512.png', dir), draw(512, 0.8, false));
writeFileSync(new URL('apple-touch-icon.png', dir), draw(180, 0.9, false));
