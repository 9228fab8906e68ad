/** Small helpers for the benchmark table. */

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Per-stage medians of StageTimings runs (UNet: median of the per-step means). */
export function summarise(runs) {
  const pick = (f) => median(runs.map(f));
  return {
    tokenize: pick((r) => r.timings.tokenizeMs),
    textEncode: pick((r) => r.timings.textEncodeMs),
    unetPerStep: pick((r) => r.timings.unetMs.reduce((a, b) => a + b, 0) / r.timings.unetMs.length),
    stepOverhead: pick((r) => r.timings.stepOverheadMs),
    decode: pick((r) => r.timings.decodeMs),
    engineTotal: pick((r) => r.timings.totalMs),
    wall: pick((r) => r.wallMs),
  };
}

export function fmt(ms) {
  return Number.isFinite(ms) ? (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)) : '-';
}

export function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells
      .map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])))
      .join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
