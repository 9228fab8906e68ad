/**
 * Where a browser's memory goes while the app's engine worker loads and runs
 * a pack, phase by phase (tests/bench/real-size-browser.mjs prints it).
 *
 * A timeline of that sum (every 100 ms, with each process's
 * RSS by Chromium process type), and the page's log of the engine worker's
 * messages (each call, each load progress event, the final step event)
 * timestamped on the same clock. Load phases come from the progress events
 * (a model's file read and checked, its session started); an image's phases
 * from its stage timings laid back from its final step event. Each phase
 * gets the peak and end RSS over idle; printed after the pack's table.
 *
 * Linux only: it reads /proc for every process below this one.
 *
 * Over 300 lines because sampling, cutting the timeline into the engine's
 * phases and printing them are one measurement: the printed columns are
 * exactly what the sampler records.
 */

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { table } from './stats.mjs';

const mib = (bytes) => (Number.isFinite(bytes) ? (bytes / 2 ** 20).toFixed(0) : '-');

/** Milliseconds since the epoch, on the clock the page's `performance.timeOrigin + now()` uses too. */
const epochMs = () => performance.timeOrigin + performance.now();

/** Chromium's process type from its command line ("browser" when it has none). */
function processType(pid, cache) {
  if (!cache.has(pid)) {
    let type = 'gone';
    try {
      // Chromium rewrites its children's titles: the arguments may be joined by spaces.
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
      const flag = argv.find((a) => a.startsWith('--type='));
      const sub = argv.find((a) => a.startsWith('--utility-sub-type='));
      type = flag ? flag.slice(7) : 'browser';
      if (type === 'utility' && sub) type = `utility ${sub.slice(19).split('.').pop()}`;
    } catch {
      // gone
    }
    cache.set(pid, type);
  }
  return cache.get(pid);
}

/** Every process below this one, each with its VmRSS and RssAnon/RssFile/RssShmem in bytes. */
function processMemory(types) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // gone
    }
  }
  const out = [];
  const walk = (pid) => {
    for (const child of children.get(pid) ?? []) {
      try {
        const status = readFileSync(`/proc/${child}/status`, 'utf8');
        const kb = (key) =>
          Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
        out.push({
          pid: child,
          type: processType(child, types),
          rss: kb('VmRSS'),
          anon: kb('RssAnon'),
          file: kb('RssFile'),
          shmem: kb('RssShmem'),
        });
      } catch {
        // gone
      }
      walk(child);
    }
  };
  walk(process.pid);
  return out;
}

/**
 * The writable mappings of `pid` of at least `minBytes` with at least 1 MiB
 * resident, `[start, size, rss]` (start as hex, sizes in bytes), largest RSS
 * first. In the renderer that runs the engine worker, one is WebAssembly's
 * linear memory (its size is the heap's, its RSS the pages touched, which
 * freeing inside the heap never returns: wasmMapping() finds it); big
 * ArrayBuffers (a model file's bytes) are mappings of their own.
 */
function bigMappings(pid, minBytes = 32 * 2 ** 20) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return [];
  }
  const out = [];
  let current = null;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-[0-9a-f]+ (\S+) /.exec(line);
    if (head) {
      current = head[2].startsWith('rw') ? { start: head[1], size: 0, rss: 0 } : null;
      if (current) out.push(current);
    } else if (current && line.startsWith('Size:'))
      current.size = Number(line.split(/\s+/)[1]) * 1024;
    else if (current && line.startsWith('Rss:')) current.rss = Number(line.split(/\s+/)[1]) * 1024;
  }
  return out
    .filter((m) => m.size >= minBytes && m.rss >= 2 ** 20)
    .sort((a, b) => b.rss - a.rss)
    .map((m) => [m.start, m.size, m.rss]);
}

/**
 * The start of WebAssembly's memory among the sampled mappings: the mapping
 * with the most RSS in the last listing (by then the heap holds every
 * session), which keeps its start as the heap grows.
 */
function wasmMapping(samples) {
  return samples.filter((s) => s.maps?.length).pop()?.maps[0][0];
}

/**
 * Samples every Chromium process's memory every `intervalMs` into a timeline
 * until stopped; returns it. Every `mapsEvery`th sample also lists the
 * largest renderer's big writable mappings (bigMappings).
 */
export function timeline(intervalMs = 100, mapsEvery = 3) {
  const types = new Map();
  const samples = [];
  const take = () => {
    const procs = processMemory(types);
    const sample = { t: epochMs(), total: procs.reduce((a, p) => a + p.rss, 0), procs };
    if (samples.length % mapsEvery === 0) {
      const renderer = procs
        .filter((p) => p.type === 'renderer')
        .reduce((a, p) => (p.rss > (a?.rss ?? -1) ? p : a), null);
      if (renderer) sample.maps = bigMappings(renderer.pid);
    }
    samples.push(sample);
  };
  take();
  const timer = setInterval(take, intervalMs);
  return () => {
    clearInterval(timer);
    take();
    return samples;
  };
}

/**
 * Wraps the page's Worker so that every worker it starts logs, on the epoch
 * clock, each call posted to it and each message back (progress reduced to
 * its phase, path and step; no pixels). Read with `workerEvents(page)`.
 */
export async function logWorkerMessages(page) {
  await page.evaluate(() => {
    const now = () => performance.timeOrigin + performance.now();
    const log = (globalThis.__gessoWorkerLog = []);
    const Native = globalThis.Worker;
    globalThis.Worker = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', ({ data: m }) => {
          const d = m?.data;
          log.push({
            t: now(),
            id: m?.id,
            type: m?.type,
            ...(m?.type === 'progress'
              ? { phase: d?.phase, path: d?.path, step: d?.step, steps: d?.steps }
              : {}),
          });
        });
        const post = this.postMessage.bind(this);
        this.postMessage = (message, transfer) => {
          if (message?.type === 'call')
            log.push({ t: now(), id: message.id, type: 'call', method: message.method });
          return post(message, transfer);
        };
      }
    };
  });
}

export const workerEvents = (page) => page.evaluate(() => globalThis.__gessoWorkerLog ?? []);

/**
 * Phases `{ name, start, end }` (epoch ms) from the worker's log: for
 * loadPack, open pack + runtime, then each model's wait for its file (read
 * and checked; the next file is read while a session starts) and its
 * session; for each generate, the stage timings laid back from the final
 * step event (the worker's own durations, anchored on the page's clock).
 */
export function phasesFromEvents(events, calls, components) {
  const label = new Map(
    [
      [components.textEncoder, 'text encoder'],
      [components.unet, 'UNet'],
      [components.vaeDecoder, 'VAE decoder'],
      [components.previewDecoder, 'preview decoder'],
    ].filter(([p]) => p),
  );
  const phases = [];
  let image = 0;
  let last = null;
  for (const call of calls) {
    const mine = events.filter((e) => e.id === call.id);
    const sent = mine.find((e) => e.type === 'call')?.t;
    const done = mine.find((e) => e.type === 'result' || e.type === 'error')?.t;
    if (sent === undefined || done === undefined) continue;
    if (last !== null && sent - last > 50)
      phases.push({ name: 'between calls (idle)', start: last, end: sent });
    last = done;
    if (call.method === 'loadPack') {
      const reads = new Map();
      const starts = [];
      for (const e of mine.filter((x) => x.type === 'progress')) {
        if (e.phase === 'read' && !reads.has(e.path)) reads.set(e.path, e.t);
        if (e.phase === 'start') starts.push(e);
      }
      // A model's files: the graph and its external data (reported read when its session starts).
      const own = (model, path) =>
        path === model || path === `${model}_data` || path === `${model}.data`;
      const isModelFile = (path) => starts.some((s) => own(s.path, path));
      const tokenizerDone = Math.max(
        sent,
        ...[...reads].filter(([p]) => !isModelFile(p)).map(([, t]) => t),
      );
      phases.push({ name: 'load: open pack, runtime, tokenizer', start: sent, end: tokenizerDone });
      let previous = tokenizerDone;
      for (const s of starts) {
        const name = label.get(s.path) ?? s.path;
        const read = Math.max(
          previous,
          ...[...reads].filter(([p]) => own(s.path, p)).map(([, t]) => t),
        );
        phases.push({ name: `load: ${name} file (fetch + SHA-256)`, start: previous, end: read });
        phases.push({
          name: `load: ${name} session (next file read alongside)`,
          start: read,
          end: s.t,
        });
        previous = s.t;
      }
      phases.push({ name: 'load: ready, result to the page', start: previous, end: done });
      continue;
    }
    if (call.method !== 'generate' || !call.timings) continue;
    image++;
    const tag = `image ${image}${image === 1 ? ' (warm-up)' : ''}`;
    const tm = call.timings;
    const final = mine.filter((e) => e.type === 'progress').pop()?.t ?? done;
    const engineStart = final - tm.totalMs;
    const encodeStart = engineStart + tm.tokenizeMs;
    const encodeEnd = encodeStart + tm.textEncodeMs;
    const decodeStart = final - tm.decodeMs;
    phases.push({ name: `${tag}: call, tokenize`, start: sent, end: encodeStart });
    phases.push({ name: `${tag}: text encode`, start: encodeStart, end: encodeEnd });
    // Steps end at the decode (one yield between); each step's share of the overhead after its UNet run.
    const overhead = tm.stepOverheadMs / Math.max(1, tm.unetMs.length);
    let end = decodeStart;
    const steps = [];
    for (let k = tm.unetMs.length - 1; k >= 0; k--) {
      steps.unshift({
        name: `${tag}: UNet step ${k + 1}`,
        start: end - overhead - tm.unetMs[k],
        end,
      });
      end = steps[0].start;
    }
    phases.push({
      name: `${tag}: noise, scheduler`,
      start: encodeEnd,
      end: Math.max(encodeEnd, end),
    });
    phases.push(...steps);
    phases.push({ name: `${tag}: VAE decode`, start: decodeStart, end: final });
    phases.push({ name: `${tag}: result to the page`, start: final, end: done });
  }
  return phases;
}

/** Each phase's peak and end RSS (all Chromium processes) and the largest process at its peak. */
export function memoryByPhase(samples, phases) {
  const wasmStart = wasmMapping(samples);
  return phases.map((phase) => {
    const inside = samples.filter((s) => s.t >= phase.start && s.t <= phase.end);
    // A phase shorter than the sampling interval takes the next sample after it.
    const within = inside.length ? inside : samples.filter((s) => s.t >= phase.end).slice(0, 1);
    const peak = within.reduce((a, s) => (s.total > (a?.total ?? -1) ? s : a), null);
    const endSample = samples.filter((s) => s.t <= phase.end).pop() ?? within[0];
    const top = peak?.procs.reduce((a, p) => (p.rss > (a?.rss ?? -1) ? p : a), null);
    // The mappings as listed nearest the peak, and wasm memory's high-water in the phase.
    const mapped = samples.filter((s) => s.maps && s.t <= (peak?.t ?? phase.end)).pop();
    const wasmRss = (s) => s?.maps?.find((m) => m[0] === wasmStart)?.[2] ?? 0;
    const wasm = within.concat(endSample ?? []).reduce((a, s) => Math.max(a, wasmRss(s)), 0);
    return {
      ...phase,
      peak: peak?.total,
      endRss: endSample?.total,
      top,
      maps: mapped?.maps?.filter((m) => m[0] !== wasmStart),
      wasmHigh: wasm || wasmRss(mapped),
      samples: inside.length,
    };
  });
}

/** The variant's model files (components and their external data) in the pack's manifest. */
function variantModels(packDir) {
  const manifest = JSON.parse(readFileSync(join(packDir, 'manifest.json'), 'utf8'));
  const variant = manifest.variants.find((v) => v.default) ?? manifest.variants[0];
  const paths = new Set(Object.values(variant.components).filter(Boolean));
  for (const path of [...paths])
    for (const data of [`${path}_data`, `${path}.data`])
      if (manifest.files.some((f) => f.path === data)) paths.add(data);
  const files = manifest.files.filter((f) => paths.has(f.path));
  return { variant, files, bytes: files.reduce((a, f) => a + f.size, 0) };
}

/** The timeline cut into phases (memoryByPhase) with the idle level (the last sample before the load call). */
export function phaseMemory(samples, events, calls, packDir) {
  const posted = events.filter((e) => e.type === 'call');
  calls.forEach((c, i) => {
    if (posted[i]?.method !== c.method)
      throw new Error(
        `worker log out of step: call ${i} is ${posted[i]?.method}, expected ${c.method}`,
      );
    c.id = posted[i].id;
  });
  const { variant, files, bytes } = variantModels(packDir);
  const loadSent = posted[0]?.t ?? samples[0].t;
  const idle = (samples.filter((s) => s.t <= loadSent).pop() ?? samples[0]).total;
  const phases = memoryByPhase(samples, phasesFromEvents(events, calls, variant.components));
  const peak = samples.reduce((a, s) => (s.total > a.total ? s : a), samples[0]);
  const atPeak = phases.filter((p) => peak.t >= p.start && peak.t <= p.end).map((p) => p.name);
  return {
    idle,
    phases,
    peak,
    atPeak,
    weightBytes: bytes,
    files,
    start: loadSent,
    count: samples.length,
  };
}

/** The memory-by-phase table of one size, with the peak's place and what each process held then. */
export function formatPhaseMemory(m, size) {
  const over = (bytes) => (Number.isFinite(bytes) ? mib(bytes - m.idle) : '-');
  const s = (ms) => (ms / 1000).toFixed(1);
  const rows = m.phases.map((p) => [
    p.name,
    s(p.start - m.start),
    s(p.end - p.start),
    over(p.peak),
    over(p.endRss),
    p.top ? `${p.top.type} ${mib(p.top.rss)}` : '-',
    mib(p.wasmHigh),
    p.maps
      ? p.maps
          .slice(0, 4)
          .map(([, size, rss]) => `${mib(rss)}/${mib(size)}`)
          .join(' ')
      : '-',
  ]);
  const peakPhase = m.phases.find((p) => m.atPeak.includes(p.name));
  const procs = [...m.peak.procs]
    .sort((a, b) => b.rss - a.rss)
    .filter((p) => p.rss > 20 * 2 ** 20)
    .map(
      (p) =>
        `${p.type} ${mib(p.rss)} (anon ${mib(p.anon)}, shmem ${mib(p.shmem)}, file ${mib(p.file)})`,
    );
  return (
    `\n  Memory by phase at ${size} (summed RSS of all Chromium processes, sampled every 100 ms, ${m.count} samples; ` +
    `MiB over the idle app = ${mib(m.idle)} MiB, sampled just before loadPack; the variant's model files ${mib(m.weightBytes)} MiB = ${m.weightBytes.toLocaleString('en')} B; ` +
    "load phases from the worker's progress events, image phases from its stage timings laid back from the final step event):\n" +
    'wasm RSS: WebAssembly memory in the largest renderer (the writable mapping with the most RSS at the end, same start), its highest RSS in the phase (MiB); ' +
    "other maps: the other writable mappings there of 32 MiB or more, largest RSS first, nearest the phase's peak (RSS/size MiB; a model file's bytes in JavaScript are one):\n" +
    table(
      [
        'phase',
        'from s',
        'for s',
        'peak +MiB',
        'end +MiB',
        'largest process at peak',
        'wasm RSS',
        'other maps',
      ],
      rows,
    ) +
    `\n  Overall peak ${mib(m.peak.total)} MiB (+${over(m.peak.total)} MiB, ${(
      (m.peak.total - m.idle) /
      m.weightBytes
    ).toFixed(
      2,
    )}x the model files) at ${s(m.peak.t - m.start)} s, in: ${m.atPeak.join('; ') || 'no phase'}.` +
    `\n  At the peak: ${procs.join('; ')}.` +
    (peakPhase
      ? `\n  In that phase: wasm memory up to ${mib(peakPhase.wasmHigh)} MiB resident; other writable mappings of 32 MiB or more nearest the peak (RSS/size MiB): ${(peakPhase.maps ?? []).map(([, size, rss]) => `${mib(rss)}/${mib(size)}`).join(', ') || 'none'}.`
      : '')
  );
}
