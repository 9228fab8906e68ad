import { describe, expect, it } from 'vitest';
import { formatWait, TimeoutError, withTimeout } from '../../../sw/downloads/timeouts';
import { ManualClock } from './manual-clock';

const never = () => new Promise<never>(() => {});

describe('download time limits on a fake clock', () => {
  it('rejects with TimeoutError once the limit passes, and aborts the request first', async () => {
    const clock = new ManualClock();
    let aborted = 0;
    const result = withTimeout(never(), 'connect', 20_000, () => aborted++, clock);
    clock.advance(19_999);
    await Promise.resolve();
    expect(aborted).toBe(0);
    clock.advance(1);
    await expect(result).rejects.toBeInstanceOf(TimeoutError);
    await expect(result).rejects.toMatchObject({
      kind: 'connect',
      message: 'the host did not answer within 20 s',
    });
    expect(aborted).toBe(1);
  });

  it('settles with the work when it is in time, and leaves no timer behind', async () => {
    const clock = new ManualClock();
    await expect(withTimeout(Promise.resolve(7), 'stall', 1000, () => {}, clock)).resolves.toBe(7);
    expect(clock.pending).toBe(0);
    const failing = withTimeout(Promise.reject(new Error('cut')), 'stall', 1000, () => {}, clock);
    await expect(failing).rejects.toThrow('cut');
    expect(clock.pending).toBe(0);
  });

  it('a late answer after the limit is ignored', async () => {
    const clock = new ManualClock();
    let answer!: (v: number) => void;
    const result = withTimeout(
      new Promise<number>((r) => (answer = r)),
      'stall',
      30_000,
      () => {},
      clock,
    );
    clock.advance(30_000);
    answer(1);
    await expect(result).rejects.toMatchObject({
      kind: 'stall',
      message: 'the host stopped sending data for 30 s',
    });
  });

  it('0 or Infinity means no limit', async () => {
    const clock = new ManualClock();
    withTimeout(never(), 'connect', 0, () => {}, clock);
    withTimeout(never(), 'connect', Infinity, () => {}, clock);
    expect(clock.pending).toBe(0);
  });

  it('says waits in words', () => {
    expect(formatWait(250)).toBe('250 ms');
    expect(formatWait(1500)).toBe('1.5 s');
    expect(formatWait(30_000)).toBe('30 s');
    expect(formatWait(300_000)).toBe('5 min');
  });
});
