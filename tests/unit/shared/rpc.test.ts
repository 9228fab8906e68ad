import { afterEach, describe, expect, it } from 'vitest';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { RpcClient } from '../../../src/shared/rpc/client';
import { serve, Transfer } from '../../../src/shared/rpc/host';
import { GessoError } from '../../../src/shared/errors';
import type { MethodSpec, Port } from '../../../src/shared/rpc/wire';

type TestApi = {
  add: MethodSpec<{ a: number; b: number }, number>;
  count: MethodSpec<{ to: number }, Float32Array, number>;
  fail: MethodSpec<{ code: 'pack-missing' | 'plain' }, void>;
  slow: MethodSpec<{ steps: number }, number, number>;
};

// Node's MessagePort speaks the same postMessage/addEventListener shape as a Worker.
function asPort(port: MessagePort): Port {
  return port as unknown as Port;
}

const open: MessagePort[] = [];
afterEach(() => open.splice(0).forEach((port) => port.close()));

function setup() {
  const { port1, port2 } = new MessageChannel();
  open.push(port1, port2);
  const order: string[] = [];
  serve<TestApi>(asPort(port2), {
    add: async ({ a, b }) => a + b,
    count: async ({ to }, { progress }) => {
      for (let i = 1; i <= to; i++) progress(i);
      const data = new Float32Array([1, 2, 3]);
      return new Transfer(data, [data.buffer]);
    },
    fail: async ({ code }) => {
      if (code === 'plain') throw new Error('boom');
      throw new GessoError('pack-missing', 'Download the pack first.');
    },
    slow: async ({ steps }, { signal, progress }) => {
      order.push('slow-start');
      let done = 0;
      for (let i = 0; i < steps; i++) {
        signal.throwIfAborted();
        await new Promise((resolve) => setTimeout(resolve, 5));
        done++;
        progress(done);
      }
      order.push('slow-end');
      return done;
    },
  });
  return { client: new RpcClient<TestApi>(asPort(port1)), order };
}

describe('engine RPC', () => {
  it('returns typed results and transferred buffers', async () => {
    const { client } = setup();
    expect(await client.call('add', { a: 2, b: 3 })).toBe(5);
    const seen: number[] = [];
    const data = await client.call('count', { to: 3 }, { onProgress: (n) => seen.push(n) });
    expect(seen).toEqual([1, 2, 3]);
    expect(Array.from(data)).toEqual([1, 2, 3]);
  });

  it('carries errors across as typed data', async () => {
    const { client } = setup();
    await expect(client.call('fail', { code: 'pack-missing' })).rejects.toMatchObject({
      code: 'pack-missing',
      message: 'Download the pack first.',
    });
    await expect(client.call('fail', { code: 'plain' })).rejects.toMatchObject({
      code: 'internal',
    });
  });

  it('aborts a running call between steps', async () => {
    const { client } = setup();
    const controller = new AbortController();
    const steps: number[] = [];
    const run = client.call(
      'slow',
      { steps: 1000 },
      {
        signal: controller.signal,
        onProgress: (n) => {
          steps.push(n);
          if (n === 3) controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError', code: 'aborted' });
    expect(steps.length).toBeLessThan(10);
    // The worker is still usable afterwards.
    expect(await client.call('add', { a: 1, b: 1 })).toBe(2);
  });

  it('runs calls one at a time, in order', async () => {
    const { client, order } = setup();
    const first = client.call('slow', { steps: 3 });
    const second = client.call('add', { a: 1, b: 2 }).then((value) => {
      order.push('add');
      return value;
    });
    await Promise.all([first, second]);
    expect(order).toEqual(['slow-start', 'slow-end', 'add']);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const { client } = setup();
    const controller = new AbortController();
    controller.abort();
    await expect(
      client.call('add', { a: 1, b: 1 }, { signal: controller.signal }),
    ).rejects.toMatchObject({
      code: 'aborted',
    });
  });
});
