/**
 * Conversion progress in bytes read, with the time left from the rate so
 * far; reports at most every `intervalMs` (the converter reports per chunk
 * and per tensor, far more often than a screen needs).
 */

export interface ConversionProgress {
  /** Bytes of the source models (and their external data) read so far. */
  bytesDone: number;
  bytesTotal: number;
  /** The model file being converted, null once all are done. */
  path: string | null;
  /** Seconds left at the rate so far; null until it can be estimated (first second). */
  secondsLeft: number | null;
  /** An import's second stage: the int8 copy of what it wrote (where fp16 would not run). */
  stage?: 'int8';
}

export class ProgressMeter {
  private readonly started: number;
  private last = -Infinity;
  private done = 0;

  constructor(
    private readonly total: number,
    private readonly send: (progress: ConversionProgress) => void,
    private readonly now: () => number = () => performance.now(),
    private readonly intervalMs = 100,
  ) {
    this.started = now();
  }

  /** `done` bytes read in all (never goes down); sent when due, or always with `force`. */
  update(done: number, path: string | null, force = false): void {
    this.done = Math.min(this.total, Math.max(this.done, done));
    const at = this.now();
    if (!force && at - this.last < this.intervalMs) return;
    this.last = at;
    this.send({
      bytesDone: this.done,
      bytesTotal: this.total,
      path,
      secondsLeft: secondsLeft(this.done, this.total, (at - this.started) / 1000),
    });
  }
}

/** Time left at the average rate so far; null in the first second or before any byte. */
export function secondsLeft(done: number, total: number, elapsedSeconds: number): number | null {
  if (done >= total) return 0;
  if (elapsedSeconds < 1 || done <= 0) return null;
  return ((total - done) * elapsedSeconds) / done;
}
