/** "Add a pack from a URL" on the Models screen. */

import { useState } from 'preact/hooks';
import type { Fit } from '../../shared/fit';
import { manifestFaults, type PackManifestInput } from '../../store/validate-manifest';
import { PackCard } from './PackCard';

/** "Add a pack from a URL": fetch, validate with a precise message per fault, preview, install. */
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
      const absolute = new URL(url.trim(), location.href).href;
      let data: unknown;
      try {
        const response = await fetch(absolute, {
          cache: 'no-cache',
          referrerPolicy: 'no-referrer',
        });
        if (!response.ok) throw new Error(`the server answered HTTP ${response.status}`);
        data = await response.json();
      } catch (error) {
        const why =
          error instanceof SyntaxError
            ? 'it is not JSON'
            : error instanceof Error
              ? error.message
              : String(error);
        setFaults([
          `Couldn't load the manifest: ${why}. Check the address; the host must allow cross-origin requests.`,
        ]);
        return;
      }
      const problems = manifestFaults(data);
      if (problems.length) setFaults(problems.map((p) => (p.endsWith('.') ? p : `${p}.`)));
      else setFound({ url: absolute, manifest: data as PackManifestInput });
    } catch {
      setFaults(['That is not a web address.']);
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
