/** The Models screen: catalog and installed packs with what fits this device, downloads, storage. */

import { useEffect, useState } from 'preact/hooks';
import type { Capabilities } from '../../shared/capabilities';
import { variantFits } from '../../shared/fit';
import {
  defaultVariant,
  filesForVariant,
  sizeOf,
  type PackManifestInput,
} from '../../store/validate-manifest';
import { getEngine } from '../app/engine';
import { AddPack } from './AddPack';
import { ImportModel } from './ImportModel';
import { isImportedPack } from '../../store/import-pack';
import { PackCard } from './PackCard';
import { manifestToFit } from './pack-status';
import { StorageSummary } from './StorageSummary';
import { GalleryStorage } from '../gallery/GalleryStorage';
import { usePacks } from './usePacks';
import './models.css';

function useCapabilities(): Capabilities | null {
  const [caps, setCaps] = useState<Capabilities | null>(null);
  useEffect(() => {
    let live = true;
    getEngine()
      .call('detect', undefined)
      .then((c) => live && setCaps(c))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, []);
  return caps;
}

export function ModelsScreen() {
  const { entries, loaded, checkUpdates } = usePacks();
  const [checking, setChecking] = useState(false);
  const userPacks = entries.some((e) => e.record?.origin === 'user' && e.record.installed);
  const caps = useCapabilities();
  const memory = (navigator as { deviceMemory?: number }).deviceMemory;
  /** The verdict for a pack's default variant; `installed`: nothing is left to download. */
  const fitFor = (manifest: PackManifestInput | null, installed = false) => {
    const variant = manifest?.variants.find((v) => v.id === defaultVariant(manifest));
    if (!manifest || !variant) return null;
    const download = installed ? 0 : sizeOf(filesForVariant(manifest, variant.id)).bytes;
    return variantFits(variant, caps, memory, download);
  };
  const stateKey = entries
    .map((e) => `${e.key}:${e.record?.installed?.version}:${e.record?.job?.state}`)
    .join();

  return (
    <section class="screen models" aria-labelledby="screen-title">
      <h1 id="screen-title">Models</h1>
      <StorageSummary refresh={stateKey} />
      <GalleryStorage />
      <h2>Packs</h2>
      {!loaded && <p>Loading…</p>}
      {userPacks && (
        <p class="pack-updates">
          Packs you added are checked for updates at most once a day, and only when online.{' '}
          <button
            type="button"
            disabled={checking}
            onClick={() => {
              setChecking(true);
              void checkUpdates().finally(() => setChecking(false));
            }}
          >
            Check all packs for updates
          </button>
        </p>
      )}
      <div class="pack-list">
        {entries.map((entry) => (
          <PackCard
            key={entry.key}
            entry={entry}
            fit={fitFor(
              manifestToFit(entry.record, entry.manifest),
              Boolean(entry.record?.installed),
            )}
            onCheck={
              entry.record?.origin === 'user' && !isImportedPack(entry.record)
                ? () => checkUpdates([entry.record!.id])
                : undefined
            }
          />
        ))}
      </div>
      <AddPack fitFor={fitFor} />
      <ImportModel />
    </section>
  );
}
