import { expect, it } from 'vitest';
import { MemoryKV } from '../../../src/store/kv';
import { kvContract } from './kv-contract';

it('MemoryKV meets the storage contract', async () => {
  expect(await kvContract(new MemoryKV())).toEqual([
    'get/put',
    'bytes',
    'list/count',
    'batch',
    'delete',
  ]);
});

it('MemoryKV batches are all-or-nothing', async () => {
  const kv = new MemoryKV();
  kv.failPut = (store) =>
    store === 'chunks' ? new DOMException('full', 'QuotaExceededError') : null;
  await expect(
    kv.batch([
      { type: 'put', store: 'files', key: ['s', 'f'], value: 1 },
      { type: 'put', store: 'chunks', key: ['s', 'f', 0], value: 2 },
    ]),
  ).rejects.toThrow('full');
  expect(await kv.get('files', ['s', 'f'])).toBeUndefined();
});
