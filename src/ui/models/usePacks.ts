/** The Models screen's data: catalog + stored records + live progress, kept fresh from store events. */

import { useEffect, useState } from 'preact/hooks';
import { catalog } from '../../store/catalog';
import { keepStoreAwake, listStoredPacks, onStoreEvent, callStore } from '../../store/packs';
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
}

async function fetchManifest(url: string): Promise<PackManifestInput | null> {
  try {
    const response = await fetch(url, { cache: 'no-cache' });
    return response.ok ? parseManifest(await response.json()) : null;
  } catch {
    return null;
  }
}

const BASE = new URL(import.meta.env.BASE_URL, location.href).href;

export function usePacks(): { entries: PackEntry[]; loaded: boolean; refresh: () => void } {
  const [records, setRecords] = useState<PackRecord[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [fetched, setFetched] = useState<Record<string, PackManifestInput | null>>({});
  const [progress, setProgress] = useState<Record<string, Progress>>({});
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
      if (event.type === 'progress') setProgress((p) => ({ ...p, [event.packId]: event }));
      else setTick((t) => t + 1);
    });
    void callStore('wake', undefined).catch(() => {});
    // Newest manifests for packs fetched from a URL (the demo pack, user packs): update detection.
    const urls = catalog(BASE)
      .filter((e) => !e.manifest)
      .map((e) => e.manifestUrl);
    void listStoredPacks()
      .then((r) => r.filter((p) => p.origin === 'user').map((p) => p.manifestUrl))
      .catch(() => [] as string[])
      .then((user) =>
        Promise.all(
          [...urls, ...user].map(async (url) => {
            const manifest = await fetchManifest(url);
            setFetched((f) => ({ ...f, [url]: manifest }));
          }),
        ),
      );
    return stop;
  }, []);

  useEffect(() => keepStoreAwake(), []);

  const entries: PackEntry[] = [];
  const used = new Set<string>();
  for (const item of catalog(BASE)) {
    const record =
      records.find(
        (r) => r.manifestUrl === item.manifestUrl || (item.manifest && r.id === item.manifest.id),
      ) ?? null;
    if (record) used.add(record.id);
    const manifest = item.manifest ?? fetched[item.manifestUrl] ?? record?.manifest ?? null;
    entries.push({
      key: item.manifestUrl,
      manifestUrl: item.manifestUrl,
      origin: 'builtin',
      manifest,
      record,
      progress: record ? (progress[record.id] ?? null) : null,
    });
  }
  for (const record of records) {
    if (used.has(record.id)) continue;
    entries.push({
      key: record.id,
      manifestUrl: record.manifestUrl,
      origin: record.origin,
      manifest: fetched[record.manifestUrl] ?? record.manifest,
      record,
      progress: progress[record.id] ?? null,
    });
  }
  return { entries, loaded, refresh: () => setTick((t) => t + 1) };
}
