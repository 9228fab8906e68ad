import { describe, expect, it } from 'vitest';
import { remix, type RemixRequest } from '../../../src/ui/app/remix';

const request: RemixRequest = {
  recipe: { prompt: 'red heart', seed: 7, steps: 4 },
  exact: false,
  source: 'file',
};

describe('the remix store', () => {
  it('hands a recipe to Create once', () => {
    remix.set(request);
    expect(remix.get()).toBe(request);
    expect(remix.take()).toBe(request);
    expect(remix.take()).toBeNull();
    expect(remix.get()).toBeNull();
  });

  it('tells subscribers until they unsubscribe', () => {
    const seen: (RemixRequest | null)[] = [];
    const stop = remix.subscribe((r) => seen.push(r));
    remix.set(request);
    remix.set(null);
    stop();
    remix.set(request);
    expect(seen).toEqual([request, null]);
    remix.take();
  });
});
