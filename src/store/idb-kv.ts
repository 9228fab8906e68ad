/** The KV interface over IndexedDB (idb): usable from the page, the engine worker and the service worker. */

import { openDB, type IDBPDatabase } from 'idb';
import type { Key, KeyPart, KV, Op, StoreName } from './kv';
import { DB_NAME, DB_VERSION } from './records';

const STORES: StoreName[] = ['packs', 'files', 'chunks'];

function prefixRange(prefix: KeyPart[]): IDBKeyRange | undefined {
  // Arrays sort after numbers and strings, so [...prefix, []] bounds every longer key.
  return prefix.length === 0 ? undefined : IDBKeyRange.bound(prefix, [...prefix, []]);
}

export class IdbKV implements KV {
  private constructor(private readonly db: IDBPDatabase) {}

  /** `onGone`: the connection was closed under us (an upgrade elsewhere, or the browser). */
  static async open(name = DB_NAME, onGone?: () => void): Promise<IdbKV> {
    const db = await openDB(name, DB_VERSION, {
      upgrade(db) {
        for (const store of STORES)
          if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
      },
      blocking() {
        // A newer version of the app wants to upgrade: let it.
        db.close();
        onGone?.();
      },
      terminated() {
        onGone?.();
      },
    });
    return new IdbKV(db);
  }

  close(): void {
    this.db.close();
  }

  async get<T>(store: StoreName, key: Key): Promise<T | undefined> {
    return (await this.db.get(store, key)) as T | undefined;
  }
  async put(store: StoreName, key: Key, value: unknown): Promise<void> {
    await this.db.put(store, value, key);
  }
  async delete(store: StoreName, key: Key): Promise<void> {
    await this.db.delete(store, key);
  }
  async list<T>(store: StoreName, prefix: KeyPart[]): Promise<T[]> {
    return (await this.db.getAll(store, prefixRange(prefix))) as T[];
  }
  async count(store: StoreName, prefix: KeyPart[]): Promise<number> {
    return this.db.count(store, prefixRange(prefix));
  }
  async batch(ops: Op[]): Promise<void> {
    const names = [...new Set(ops.map((op) => op.store))];
    if (names.length === 0) return;
    const tx = this.db.transaction(names, 'readwrite');
    // Queue every request synchronously; the transaction commits all or none.
    const requests = ops.map((op) => {
      const store = tx.objectStore(op.store);
      if (op.type === 'put') return store.put(op.value, op.key);
      if (op.type === 'delete') return store.delete(op.key);
      const range = prefixRange(op.prefix);
      return range ? store.delete(range) : store.clear();
    });
    await Promise.all([...requests, tx.done]);
  }
}

let shared: Promise<IdbKV> | null = null;

/** One connection per JavaScript context, reopened if the browser or an upgrade closes it. */
export function openModelDb(): Promise<IdbKV> {
  const forget = () => {
    shared = null;
  };
  return (shared ??= IdbKV.open(DB_NAME, forget).catch((error: unknown) => {
    forget();
    throw error;
  }));
}
