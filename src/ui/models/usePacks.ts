/** The Models screen's data: catalog + stored records + live progress, kept fresh from store events. */

import { useCallback, useEffect, useState } from 'preact/hooks';
import { catalog } from '../../store/catalog';
import { listStoredPacks, onStoreEvent, callStore } from '../../store/packs';
import type { UpdateCheck } from '../../store/protocol';
import type { PackRecord } from '../../store/records';
import { parseManifest, type PackManifestInput } from '../../store/validate-manifest';
import type { Progress } from './pack-status';

export interface PackEntry {
  key: string;
  manifestUrl: string;
  origin: PackRecord['origin'];
  /** The newest manifest known (catalog, fetched, or stored); null if it can't be had. */
  manifest: PackManifestInput | null;
  record: PackRecord | null;
  progress: Progress | null;
  /** A failure the service worker announced (shown even when it could not be stored). */
  failure: string | null;
  /** The last update check the user asked for, for user packs. */
  check: UpdateCheck | null;
}

/** The built-in packs the app serves itself (the demo pack): their manifests, from the app's own origin. */
async function fetchOwnManifest(url: string): Promise<PackManifestInput | null> {
  try {
    const response = await fetch(url, { cache: 'no-cache', signal: AbortSignal.timeout(15_000) });
    return response.ok ? parseManifest(await response.json()) : null;
  } catch {
    return null;
  }
}

const BASE = new URL(import.meta.env.BASE_URL, location.href).href;

export interface Packs {
  entries: PackEntry[];
  loaded: boolean;
  refresh: () => void;
  /** Asks the hosts of these user packs (all of them without ids) for newer manifests now. */
  checkUpdates: (packIds?: string[]) => Promise<void>;
}

export function usePacks(): Packs {
  const [records, setRecords] = useState<PackRecord[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [fetched, setFetched] = useState<Record<string, PackManifestInput | null>>({});
  const [progress, setProgress] = useState<Record<string, Progress>>({});
  const [failures, setFailures] = useState<Record<string, string>>({});
  const [checks, setChecks] = useState<Record<string, UpdateCheck>>({});
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    listStoredPacks()
      .then((r) => live && (setRecords(r), setLoaded(true)))
      .catch(() => live && setLoaded(true));
    return () => {
      live = false;
    };
  }, [tick]);

  useEffect(() => {
    const stop = onStoreEvent((event) => {
      if (event.type === 'progress') {
        setProgress((p) => ({ ...p, [event.packId]: event }));
        setFailures((f) => (event.packId in f ? without(f, event.packId) : f));
      } else if (event.type === 'failed')
        setFailures((f) => ({ ...f, [event.packId]: event.error.message }));
      else setTick((t) => t + 1);
    });
    void callStore('wake', undefined).catch(() => {});
    // The app's own packs (the demo pack): its newest manifest, from the app's own server.
    for (const entry of catalog(BASE).filter((e) => !e.manifest))
      void fetchOwnManifest(entry.manifestUrl).then((manifest) =>
        setFetched((f) => ({ ...f, [entry.manifestUrl]: manifest })),
      );
    // User packs: their hosts are asked at most daily, and only online (the worker decides).
    void callStore('checkUpdates', {}).catch(() => {});
    return stop;
  }, []);

  const checkUpdates = useCallback(
    async (packIds?: string[]) => {
      try {
        const results = await callStore(
          'checkUpdates',
          { asked: true, ...(packIds ? { packIds } : {}) },
          { timeoutMs: 120_000 },
        );
        setChecks((c) => ({ ...c, ...Object.fromEntries(results.map((r) => [r.packId, r])) }));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const ids = packIds ?? records.filter((r) => r.origin === 'user').map((r) => r.id);
        setChecks((c) => ({
          ...c,
          ...Object.fromEntries(
            ids.map((packId) => [
              packId,
              { packId, checked: false, latest: null, error: message, checkedAt: null },
            ]),
          ),
        }));
      }
    },
    [records],
  );

  const entries: PackEntry[] = [];
  const used = new Set<string>();
  const extras = (record: PackRecord | null) => ({
    progress: record ? (progress[record.id] ?? null) : null,
    failure: record ? (failures[record.id] ?? null) : null,
    check: record ? (checks[record.id] ?? null) : null,
  });
  for (const item of catalog(BASE)) {
    const record =
      records.find(
        (r) =>
          r.manifestUrl === item.manifestUrl ||
          (item.manifest && r.id === item.manifest.id && r.origin === 'builtin'),
      ) ?? null;
    if (record) used.add(record.id);
    const manifest = item.manifest ?? fetched[item.manifestUrl] ?? record?.manifest ?? null;
    entries.push({
      key: item.manifestUrl,
      manifestUrl: item.manifestUrl,
      origin: 'builtin',
      manifest,
      record,
      ...extras(record),
    });
  }
  for (const record of records) {
    if (used.has(record.id)) continue;
    entries.push({
      key: record.id,
      manifestUrl: record.manifestUrl,
      origin: record.origin,
      // The newest manifest the worker has seen (it checks the host, at most daily).
      manifest: record.manifest,
      record,
      ...extras(record),
    });
  }
  return { entries, loaded, refresh: () => setTick((t) => t + 1), checkUpdates };
}

function without<T>(map: Record<string, T>, key: string): Record<string, T> {
  const next = { ...map };
  delete next[key];
  return next;
}
