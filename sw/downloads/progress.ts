/** Download rate and time left from recent samples: pure, clock passed in. */

export class RateMeter {
  private samples: { time: number; bytes: number }[] = [];
  constructor(private readonly windowMs = 5000) {}

  /** Record that `bytes` in total had arrived at `time` (ms). */
  add(time: number, bytes: number): void {
    this.samples.push({ time, bytes });
    while (this.samples.length > 2 && time - this.samples[0]!.time > this.windowMs)
      this.samples.shift();
  }

  reset(): void {
    this.samples = [];
  }

  /** The newest byte count recorded, or null when there is none. */
  get last(): number | null {
    return this.samples[this.samples.length - 1]?.bytes ?? null;
  }

  /** Bytes per second over the window, or null before there is a span to measure. */
  rate(): number | null {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.time - first.time < 250) return null;
    return ((last.bytes - first.bytes) * 1000) / (last.time - first.time);
  }
}

export function secondsLeft(remainingBytes: number, rate: number | null): number | null {
  if (rate === null || rate <= 0) return null;
  return remainingBytes / rate;
}
