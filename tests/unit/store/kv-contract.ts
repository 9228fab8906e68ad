/**
 * The storage contract, written once: run against MemoryKV in Node
 * (kv.test.ts) and against IdbKV in Chromium (tests/browser/store).
 * Throws on the first broken expectation.
 */

import type { KV } from '../../../src/store/kv';

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`KV contract: ${what}`);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export async function kvContract(kv: KV): Promise<string[]> {
  const passed: string[] = [];
  await kv.put('packs', 'a', { n: 1 });
  check(same(await kv.get('packs', 'a'), { n: 1 }), 'get returns what put stored');
  check((await kv.get('packs', 'missing')) === undefined, 'get of a missing key is undefined');
  passed.push('get/put');

  const bytes = Uint8Array.from([1, 2, 3]);
  await kv.put('chunks', ['s', 'f', 0], bytes);
  bytes[0] = 9;
  const back = await kv.get<Uint8Array>('chunks', ['s', 'f', 0]);
  check(back instanceof Uint8Array && same([...back], [1, 2, 3]), 'bytes round-trip as a copy');
  passed.push('bytes');

  for (const i of [2, 10, 1]) await kv.put('chunks', ['s', 'f', i], Uint8Array.from([i]));
  await kv.put('chunks', ['s', 'g', 0], Uint8Array.from([7]));
  await kv.put('chunks', ['s2', 'f', 0], Uint8Array.from([8]));
  const listed = await kv.list<Uint8Array>('chunks', ['s', 'f']);
  check(
    same(
      listed.map((c) => c[0]),
      [9 - 8, 1, 2, 10],
    ),
    'list is by prefix, in numeric key order',
  );
  check((await kv.count('chunks', ['s'])) === 5, 'count by prefix');
  check((await kv.count('chunks', [])) === 6, 'count of everything');
  passed.push('list/count');

  await kv.batch([
    { type: 'delete-prefix', store: 'chunks', prefix: ['s', 'f'] },
    { type: 'put', store: 'packs', key: 'b', value: { n: 2 } },
    { type: 'delete', store: 'packs', key: 'a' },
  ]);
  check((await kv.count('chunks', ['s', 'f'])) === 0, 'delete-prefix removes the prefix');
  check((await kv.count('chunks', [])) === 2, 'delete-prefix keeps other keys');
  check(
    (await kv.get('packs', 'a')) === undefined && same(await kv.get('packs', 'b'), { n: 2 }),
    'batch applies all ops',
  );
  passed.push('batch');

  await kv.delete('packs', 'b');
  check((await kv.list('packs', [])).length === 0, 'delete removes');
  passed.push('delete');
  return passed;
}
