/**
 * The worker's side of int8 copies: the conversion and "Remove the original"
 * bound to the browser's model store (IndexedDB), one job per pack at a time
 * across tabs (Web Locks), and every open page told when a pack changed (the
 * store's BroadcastChannel, as the service worker tells it).
 */

import { GessoError } from '../../shared/errors';
import { openModelDb } from '../../store/idb-kv';
import { STORE_CHANNEL, type StoreEvent } from '../../store/protocol';
import type { PackRecord } from '../../store/records';
import {
  idbPackTransaction,
  isDeviceVariant,
  removeOrphans,
  removeOtherVariants,
} from '../../store/variant-writer';
import type {
  ConvertVariantArgs,
  ConvertVariantResult,
  RemoveVariantsArgs,
  RemoveVariantsResult,
} from '../api';
import { convertVariant } from './convert-variant';
import type { ConversionProgress } from './progress';

interface Locks {
  request<T>(
    name: string,
    options: { ifAvailable: boolean },
    callback: (lock: unknown) => Promise<T>,
  ): Promise<T>;
}

/** Runs `work` holding this pack's conversion lock; refuses when another tab holds it. */
async function withPackLock<T>(packId: string, work: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as { locks?: Locks } | undefined)?.locks;
  if (!locks) return work();
  return locks.request(`gesso-int8-copy:${packId}`, { ifAvailable: true }, async (lock) => {
    if (!lock)
      throw new GessoError(
        'internal',
        'An int8 copy of this pack is being made in another Gesso tab or window. Wait for it to finish there.',
      );
    return work();
  });
}

function announce(packId: string): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const channel = new BroadcastChannel(STORE_CHANNEL);
  channel.postMessage({ type: 'changed', packId } satisfies StoreEvent);
  channel.close();
}

export function convertStoredVariant(
  args: ConvertVariantArgs,
  signal: AbortSignal,
  onProgress: (progress: ConversionProgress) => void,
): Promise<ConvertVariantResult> {
  return withPackLock(args.packId, async () => {
    const kv = await openModelDb();
    const result = await convertVariant(args, {
      kv,
      transact: idbPackTransaction,
      signal,
      onProgress,
    });
    announce(args.packId);
    return result;
  });
}

export function removeStoredVariants(args: RemoveVariantsArgs): Promise<RemoveVariantsResult> {
  return withPackLock(args.packId, async () => {
    const kv = await openModelDb();
    const installed = (await kv.get<PackRecord>('packs', args.packId))?.installed;
    const keep = args.keep ?? installed?.manifest.variants.find(isDeviceVariant)?.id;
    if (!keep)
      throw new GessoError(
        'pack-missing',
        'This pack has no int8 copy made on this device, so its original variant stays.',
      );
    const result = await removeOtherVariants(idbPackTransaction, args.packId, keep);
    await removeOrphans(kv, args.packId);
    announce(args.packId);
    return result;
  });
}
