/**
 * Asking user packs' hosts for newer manifests: at most daily and only
 * online, or every listed pack when the user asks. A newer valid manifest
 * replaces the record's (the Models screen then offers the update); faults
 * come back as a sentence per pack.
 */

import type { ModelStore } from '../../src/store/model-store';
import type { UpdateCheck } from '../../src/store/protocol';
import { updateCheckDue } from '../../src/store/update-check';
import { manifestFaults, type PackManifestInput } from '../../src/store/validate-manifest';

export interface UpdateCheckDeps {
  store: ModelStore;
  fetchManifest: (url: string) => Promise<unknown>;
  online: () => boolean;
  /** Runs `task` after every earlier task for the pack (the manager's lock). */
  locked: <T>(packId: string, task: () => Promise<T>) => Promise<T>;
  /** The pack's record changed. */
  changed: (packId: string) => void;
}

export async function checkPackUpdates(
  deps: UpdateCheckDeps,
  packIds: string[] | null,
  asked: boolean,
): Promise<UpdateCheck[]> {
  const { store } = deps;
  const packs = (await store.listPacks()).filter(
    (p) => p.origin === 'user' && (packIds === null || packIds.includes(p.id)),
  );
  const results: UpdateCheck[] = [];
  for (const pack of packs) {
    const now = Date.now();
    const latestKnown = pack.manifest.version ?? null;
    const due = updateCheckDue({ lastChecked: pack.checkedAt, now, online: deps.online(), asked });
    if (!due.check) {
      results.push({
        packId: pack.id,
        checked: false,
        latest: latestKnown,
        error:
          asked && due.why === 'offline'
            ? "You're offline, so Gesso can't check for updates. Connect to the internet and try again."
            : null,
        checkedAt: pack.checkedAt ?? null,
      });
      continue;
    }
    let error: string | null = null;
    let latest: PackManifestInput | null = null;
    try {
      const data = await deps.fetchManifest(pack.manifestUrl);
      const faults = manifestFaults(data);
      if (faults.length > 0)
        error = `The manifest at ${pack.manifestUrl} can't be used any more: ${faults[0]}.`;
      else if ((data as PackManifestInput).id !== pack.id)
        error = `The manifest at ${pack.manifestUrl} now describes another pack ("${(data as PackManifestInput).id}"), so ${pack.manifest.name} can't be updated from there.`;
      else latest = data as PackManifestInput;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const record = await deps
      .locked(pack.id, () =>
        store.updatePack(pack.id, (p) => ({
          ...p,
          checkedAt: now,
          ...(latest ? { manifest: latest } : {}),
        })),
      )
      .catch(() => null);
    deps.changed(pack.id);
    results.push({
      packId: pack.id,
      checked: true,
      latest: (record?.manifest ?? latest ?? pack.manifest).version,
      error,
      checkedAt: now,
    });
  }
  return results;
}
