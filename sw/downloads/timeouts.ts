/**
 * Time limits for a download: how long a host may take to answer (the
 * response head), and how long a body may go without a byte. Pure: the clock
 * is passed in, so tests run it on a fake one.
 */

export interface Clock {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export type TimeoutKind = 'connect' | 'stall';

/** A time limit ran out: `kind` says which one. */
export class TimeoutError extends Error {
  constructor(
    readonly kind: TimeoutKind,
    readonly ms: number,
  ) {
    super(timeoutReason(kind, ms));
    this.name = 'TimeoutError';
  }
}

/** "1.5 s", "30 s", "2 min": for sentences. */
export function formatWait(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${Number((ms / 1000).toFixed(1))} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** The reason, as the end of "Couldn't download f0.onnx: …". */
export function timeoutReason(kind: TimeoutKind, ms: number): string {
  return kind === 'connect'
    ? `the host did not answer within ${formatWait(ms)}`
    : `the host stopped sending data for ${formatWait(ms)}`;
}

/**
 * Settles as `work` does, unless `ms` pass first: then `onTimeout` runs (abort
 * the request there) and the promise rejects with TimeoutError. `ms` of 0 or
 * less, or Infinity, means no limit.
 */
export function withTimeout<T>(
  work: Promise<T>,
  kind: TimeoutKind,
  ms: number,
  onTimeout: () => void = () => {},
  clock: Clock = realClock,
): Promise<T> {
  if (!(ms > 0) || ms === Infinity) return work;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      onTimeout();
      reject(new TimeoutError(kind, ms));
    }, ms);
    work.then(
      (value) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}
