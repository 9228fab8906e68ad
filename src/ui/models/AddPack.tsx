/** "Add a pack from a URL" on the Models screen. */

import { packAddressFault } from '../../shared/pack-host-policy';
import { useState } from 'preact/hooks';
import type { Fit } from '../../shared/fit';
import { reservedIdFault } from '../../store/catalog';
import { fetchManifest, listStoredPacks } from '../../store/packs';
import { manifestFaults, type PackManifestInput } from '../../store/validate-manifest';
import { PackCard } from './PackCard';

const BASE = new URL(import.meta.env.BASE_URL, location.href).href;

/**
 * "Add a pack from a URL": fetch (through the service worker, with a time
 * limit), validate with a precise message per fault, refuse a built-in
 * pack's id, preview, install.
 */
export function AddPack({ fitFor }: { fitFor: (manifest: PackManifestInput) => Fit | null }) {
  const [url, setUrl] = useState('');
  const [faults, setFaults] = useState<string[]>([]);
  const [found, setFound] = useState<{ url: string; manifest: PackManifestInput } | null>(null);
  const [busy, setBusy] = useState(false);

  const add = async (event: Event) => {
    event.preventDefault();
    setFaults([]);
    setFound(null);
    setBusy(true);
    try {
      const fault = packAddressFault(url.trim(), location.href);
      if (fault) {
        setFaults([fault]);
        return;
      }
      const absolute = new URL(url.trim(), location.href).href;
      let data: unknown;
      try {
        data = await fetchManifest(absolute);
      } catch (error) {
        setFaults([error instanceof Error ? error.message : String(error)]);
        return;
      }
      const problems = manifestFaults(data);
      if (problems.length) {
        setFaults(problems.map((p) => (p.endsWith('.') ? p : `${p}.`)));
        return;
      }
      const manifest = data as PackManifestInput;
      const records = await listStoredPacks().catch(() => []);
      const reserved = reservedIdFault(manifest.id, absolute, BASE, records);
      if (reserved) setFaults([reserved]);
      else setFound({ url: absolute, manifest });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="add-pack" aria-labelledby="add-pack-title">
      <h2 id="add-pack-title">Add a pack from a URL</h2>
      <form onSubmit={add}>
        <label for="manifest-url">Manifest URL</label>
        <div class="prompt-bar">
          <input
            id="manifest-url"
            type="url"
            inputMode="url"
            placeholder="https://…/manifest.json"
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
            required
          />
          <button type="submit" disabled={busy || !url.trim()}>
            Add pack
          </button>
        </div>
      </form>
      {busy && <p role="status">Loading the manifest…</p>}
      {faults.length > 0 && (
        <div role="alert">
          <p>This manifest can't be used:</p>
          <ul>
            {faults.map((f) => (
              <li key={f}>{f}</li>
            ))}
          </ul>
        </div>
      )}
      {found && (
        <PackCard
          entry={{
            key: found.url,
            manifestUrl: found.url,
            origin: 'user',
            manifest: found.manifest,
            record: null,
            progress: null,
            failure: null,
            check: null,
          }}
          fit={fitFor(found.manifest)}
          onStarted={() => {
            setFound(null);
            setUrl('');
          }}
        />
      )}
    </section>
  );
}
