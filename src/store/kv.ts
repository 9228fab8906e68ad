/**
 * The tiny storage interface the model store is written against: get, put,
 * delete, plus prefix listing/deleting and an atomic batch. One
 * implementation over IndexedDB (idb-kv.ts), one over Maps for Node tests;
 * tests/unit/store and tests/browser/store check both against one contract.
 */

export type StoreName = 'packs' | 'files' | 'chunks';
export type KeyPart = string | number;
export type Key = KeyPart | KeyPart[];

export type Op =
  | { type: 'put'; store: StoreName; key: Key; value: unknown }
  | { type: 'delete'; store: StoreName; key: Key }
  | { type: 'delete-prefix'; store: StoreName; prefix: KeyPart[] };

export interface KV {
  get<T>(store: StoreName, key: Key): Promise<T | undefined>;
  put(store: StoreName, key: Key, value: unknown): Promise<void>;
  delete(store: StoreName, key: Key): Promise<void>;
  /** Values whose array key starts with `prefix` (all values for an empty prefix), in key order. */
  list<T>(store: StoreName, prefix: KeyPart[]): Promise<T[]>;
  /** Number of keys starting with `prefix`, without reading values. */
  count(store: StoreName, prefix: KeyPart[]): Promise<number>;
  /** All ops or none. */
  batch(ops: Op[]): Promise<void>;
}

function compareParts(a: KeyPart, b: KeyPart): number {
  if (typeof a !== typeof b) return typeof a === 'number' ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareKeys(a: Key, b: Key): number {
  const x = Array.isArray(a) ? a : [a];
  const y = Array.isArray(b) ? b : [b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = compareParts(x[i]!, y[i]!);
    if (c !== 0) return c;
  }
  return x.length - y.length;
}

export function hasPrefix(key: Key, prefix: KeyPart[]): boolean {
  const parts = Array.isArray(key) ? key : [key];
  return prefix.length <= parts.length && prefix.every((p, i) => parts[i] === p);
}

/** In-memory KV (values are structured-cloned, as IndexedDB would). `failPut` simulates a full disk. */
export class MemoryKV implements KV {
  private stores = new Map<StoreName, Map<string, { key: Key; value: unknown }>>();
  failPut: ((store: StoreName, value: unknown) => Error | null) | null = null;

  private map(store: StoreName) {
    let map = this.stores.get(store);
    if (!map) this.stores.set(store, (map = new Map()));
    return map;
  }

  async get<T>(store: StoreName, key: Key): Promise<T | undefined> {
    const entry = this.map(store).get(JSON.stringify(key));
    return entry ? (structuredClone(entry.value) as T) : undefined;
  }
  async put(store: StoreName, key: Key, value: unknown): Promise<void> {
    await this.batch([{ type: 'put', store, key, value }]);
  }
  async delete(store: StoreName, key: Key): Promise<void> {
    await this.batch([{ type: 'delete', store, key }]);
  }
  async list<T>(store: StoreName, prefix: KeyPart[]): Promise<T[]> {
    return [...this.map(store).values()]
      .filter((e) => hasPrefix(e.key, prefix))
      .sort((a, b) => compareKeys(a.key, b.key))
      .map((e) => structuredClone(e.value) as T);
  }
  async count(store: StoreName, prefix: KeyPart[]): Promise<number> {
    return [...this.map(store).values()].filter((e) => hasPrefix(e.key, prefix)).length;
  }
  async batch(ops: Op[]): Promise<void> {
    for (const op of ops) {
      const error = op.type === 'put' ? this.failPut?.(op.store, op.value) : null;
      if (error) throw error;
    }
    for (const op of ops) {
      const map = this.map(op.store);
      if (op.type === 'put')
        map.set(JSON.stringify(op.key), { key: op.key, value: structuredClone(op.value) });
      else if (op.type === 'delete') map.delete(JSON.stringify(op.key));
      else for (const [k, e] of map) if (hasPrefix(e.key, op.prefix)) map.delete(k);
    }
  }
}
