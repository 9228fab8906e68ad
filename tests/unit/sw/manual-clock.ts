/** A fake clock for the download loop's time limits: time moves only when `advance` is called. */

import type { Clock } from '../../../sw/downloads/timeouts';

export class ManualClock implements Clock {
  now = 0;
  private timers = new Map<number, { at: number; run: () => void }>();
  private next = 1;

  setTimeout(run: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.now + ms, run });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward, running every timer that comes due, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].run();
    }
    this.now = end;
  }

  /** Timers set and not yet run or cleared. */
  get pending(): number {
    return this.timers.size;
  }
}
