// Reference JS pieces for checking the pack outside the app: CLIP BPE
// tokenizer, LCM scheduler (docs/schedulers.md), guidance
// embedding, seeded normal noise, and a tiny PNG writer.
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const PAT =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu;

function bytesToUnicode() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  const map = new Map();
  bs.forEach((b, i) => map.set(b, String.fromCodePoint(cs[i])));
  return map;
}

export function loadTokenizer(dir, tok) {
  const vocab = JSON.parse(readFileSync(`${dir}/${tok.vocab}`, 'utf8'));
  const lines = readFileSync(`${dir}/${tok.merges}`, 'utf8').split('\n').slice(1).filter(Boolean);
  const ranks = new Map(lines.map((l, i) => [l, i]));
  const byteMap = bytesToUnicode();
  const enc = new TextEncoder();
  const bpe = (token) => {
    const chars = [...token];
    let word = [...chars.slice(0, -1), chars[chars.length - 1] + '</w>'];
    while (word.length > 1) {
      let best = null,
        bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = ranks.get(word[i] + ' ' + word[i + 1]);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = [word[i], word[i + 1]];
        }
      }
      if (!best) break;
      const out = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === best[0] && word[i + 1] === best[1]) {
          out.push(best[0] + best[1]);
          i++;
        } else out.push(word[i]);
      }
      word = out;
    }
    return word;
  };
  return (text) => {
    const clean = text.normalize('NFC').split(/\s+/).filter(Boolean).join(' ').toLowerCase();
    const ids = [];
    for (const m of clean.matchAll(PAT)) {
      const t = [...enc.encode(m[0])].map((b) => byteMap.get(b)).join('');
      for (const p of bpe(t)) ids.push(vocab[p]);
    }
    const out = [tok.bosTokenId, ...ids.slice(0, tok.maxLength - 2), tok.eosTokenId];
    while (out.length < tok.maxLength) out.push(tok.padTokenId);
    return out;
  };
}

export function alphasCumprod(s) {
  const out = new Float64Array(s.trainTimesteps);
  let prod = 1;
  for (let i = 0; i < s.trainTimesteps; i++) {
    const b =
      s.betaSchedule === 'scaled_linear'
        ? (Math.sqrt(s.betaStart) +
            (i / (s.trainTimesteps - 1)) * (Math.sqrt(s.betaEnd) - Math.sqrt(s.betaStart))) **
          2
        : s.betaStart + (i / (s.trainTimesteps - 1)) * (s.betaEnd - s.betaStart);
    prod *= 1 - b;
    out[i] = prod;
  }
  return out;
}

export function lcmTimesteps(s, steps) {
  const k = Math.floor(s.trainTimesteps / s.originalSteps);
  const grid = [];
  for (let t = k - 1; t < s.trainTimesteps; t += k) grid.push(t);
  grid.reverse();
  return Array.from({ length: steps }, (_, i) => grid[Math.floor((i * grid.length) / steps)]);
}

export function guidanceEmbedding(g, dim, scale) {
  const half = dim / 2,
    w = (g - 1) * scale,
    out = new Float32Array(dim);
  for (let i = 0; i < half; i++) {
    const f = Math.exp((-i * Math.log(10000)) / (half - 1));
    out[i] = Math.sin(w * f);
    out[half + i] = Math.cos(w * f);
  }
  return out;
}

export function normal(seed) {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
  return (n) =>
    Float32Array.from(
      { length: n },
      () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()),
    );
}

// One LCM step: returns {denoised, next}. `noise` is used only when tPrev is given.
export function lcmStep(s, abar, x, eps, t, tPrev, noise) {
  const a = abar[t],
    sc = s.timestepScaling * t;
  const cSkip = 0.25 / (sc * sc + 0.25),
    cOut = sc / Math.sqrt(sc * sc + 0.25);
  const denoised = x.map(
    (xi, i) => cOut * ((xi - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a)) + cSkip * xi,
  );
  if (tPrev === undefined) return { denoised, next: null };
  const ap = abar[tPrev];
  return {
    denoised,
    next: denoised.map((d, i) => Math.sqrt(ap) * d + Math.sqrt(1 - ap) * noise[i]),
  };
}

export function writePng(rgb, width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    rgb.copy(raw, y * (width * 3 + 1) + 1, y * width * 3, (y + 1) * width * 3);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
