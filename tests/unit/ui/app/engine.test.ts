/**
 * Which engine worker a load gets: the same one for the same pack, a fresh
 * one (the old one terminated, its memory handed back) for another pack,
 * after running out of memory, or when the loaded pack changed in the store.
 * The worker is a stand-in: only its start and end are counted.
 */

import { beforeEach, describe, expect, it, vi } from 'vitest';

const workers: { id: number; terminated: boolean }[] = [];
vi.mock('../../../../src/engine', () => ({
  startEngine: () => {
    const worker = { id: workers.length, terminated: false };
    workers.push(worker);
    return { client: worker, terminate: () => (worker.terminated = true) };
  },
}));

const { engineFor, markLoaded, packChanged, recoverFrom, restartEngine } =
  await import('../../../../src/ui/app/engine');
const { GessoError } = await import('../../../../src/shared/errors');

const live = () => workers.filter((w) => !w.terminated).map((w) => w.id);

beforeEach(() => {
  restartEngine();
  workers.length = 0;
});

describe('the engine worker a pack gets', () => {
  it('keeps the worker for the same pack and replaces it for another', () => {
    const first = engineFor('a');
    markLoaded('a', 'a');
    expect(engineFor('a')).toBe(first);
    const second = engineFor('b');
    expect(second).not.toBe(first);
    expect(live()).toEqual([1]);
  });

  it('replaces a worker whose load failed part-way when another pack is asked for', () => {
    engineFor('big'); // the load fails (not out of memory): no markLoaded
    recoverFrom(new GessoError('pack-missing', 'gone'));
    engineFor(undefined); // the demo pack
    expect(live()).toEqual([1]);
  });

  it('replaces the worker after running out of memory, and when the loaded pack changed', () => {
    engineFor('a');
    markLoaded('a', 'a');
    recoverFrom(new GessoError('out-of-memory', 'full'));
    engineFor('a');
    expect(live()).toEqual([1]);
    markLoaded('a', 'a');
    packChanged('a');
    engineFor('a');
    expect(live()).toEqual([2]);
  });
});
