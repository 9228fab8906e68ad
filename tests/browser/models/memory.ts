/**
 * Memory of the browser this test process started: the resident set of every
 * process descending from it (Chromium's browser, renderers, GPU and utility
 * processes), summed from /proc, sampled while something runs. Linux only.
 */

import { readFileSync, readdirSync } from 'node:fs';

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces or parentheses.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** Every live process below `root` (not `root` itself). */
export function descendants(root = process.pid): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent !== null) children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

/** Summed VmRSS of `pids`, in bytes (processes that ended meanwhile count 0). */
export function rss(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

/** Samples the browser's summed RSS every `intervalMs` until stopped; the peak and the first sample. */
export function sampleBrowserMemory(intervalMs = 100): () => { peak: number; start: number } {
  const first = rss(descendants());
  let peak = first;
  const timer = setInterval(() => {
    peak = Math.max(peak, rss(descendants()));
  }, intervalMs);
  return () => {
    clearInterval(timer);
    peak = Math.max(peak, rss(descendants()));
    return { peak, start: first };
  };
}

export const MB = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
