/**
 * The built-in catalog (models/catalog): every manifest listed in its
 * index.json, bundled into the page and the service worker at build time.
 * Adding a pack to the catalog is adding its manifest file and a line in
 * index.json; nothing here changes.
 *
 * Built-in pack ids are reserved: a pack added from any other address may not
 * use one (reservedIdFault), so a stranger's manifest can never replace a
 * built-in pack, and a built-in install never touches a pack the user added.
 */

import index from '../../models/catalog/index.json';
import type { PackRecord } from './records';
import type { PackManifestInput } from './validate-manifest';

export interface CatalogEntry {
  /** The pack's id, known at build time (null only if its manifest is missing from the build). */
  id: string | null;
  /** Its name, for sentences; null when unknown. */
  name: string | null;
  /** Manifest URL, absolute (resolved against the app's base URL). */
  manifestUrl: string;
  /** Bundled manifest, or null when it is fetched from manifestUrl (the demo pack). */
  manifest: PackManifestInput | null;
  /** Installed on the first visit without asking. */
  autoInstall: boolean;
}

/** Every manifest in the catalog folder, by file name (validated by tests/unit/store/validate-manifest.test.ts). */
const BUNDLED: Record<string, PackManifestInput> = Object.fromEntries(
  Object.entries(
    import.meta.glob<PackManifestInput>(['../../models/catalog/*.json', '!**/index.json'], {
      eager: true,
      import: 'default',
    }),
  ).map(([path, manifest]) => [path.slice(path.lastIndexOf('/') + 1), manifest]),
);

/**
 * Id and name of each pack the app serves itself (public/packs/…), by its
 * address relative to the app: the demo pack's manifest is fetched at run
 * time, but its id must be known before, to be reserved.
 */
const SERVED: Record<string, { id: string; name: string }> = Object.fromEntries(
  Object.entries(
    import.meta.glob<{ id: string; name: string }>('../../public/packs/*/manifest.json', {
      eager: true,
      import: 'default',
    }),
  ).map(([path, manifest]) => [
    path.slice('../../public/'.length),
    { id: manifest.id, name: manifest.name },
  ]),
);

interface IndexEntry {
  id?: string;
  manifestUrl?: string;
  manifest?: string;
  autoInstall?: boolean;
}

export function catalog(baseUrl: string): CatalogEntry[] {
  return (index.packs as IndexEntry[]).map((entry) => {
    const bundled = entry.manifest ? (BUNDLED[entry.manifest] ?? null) : null;
    if (entry.manifest && !bundled)
      throw new Error(`models/catalog/index.json lists ${entry.manifest}, which is not there.`);
    const manifestUrl = entry.manifestUrl
      ? new URL(entry.manifestUrl, baseUrl).href
      : // Bundled manifests give every file an absolute url; this address only names them.
        new URL(`catalog/${entry.manifest}`, baseUrl).href;
    const served = entry.manifestUrl ? SERVED[entry.manifestUrl.replace(/^\.?\//, '')] : undefined;
    return {
      id: bundled?.id ?? entry.id ?? served?.id ?? null,
      name: bundled?.name ?? served?.name ?? null,
      manifestUrl,
      manifest: bundled,
      autoInstall: entry.autoInstall === true,
    };
  });
}

/** The catalog entry whose manifest lives at `manifestUrl`, if any: only these are built-in. */
export function catalogEntryAt(baseUrl: string, manifestUrl: string): CatalogEntry | null {
  return catalog(baseUrl).find((entry) => entry.manifestUrl === manifestUrl) ?? null;
}

/**
 * Why a pack from `manifestUrl` may not use `id`, as a sentence, or null when
 * it may. Reserved: every catalog pack's id, and the id of any stored record
 * that came from a catalog address (in case a built-in's id is not known at
 * build time). The catalog's own address may use its own id.
 */
export function reservedIdFault(
  id: string,
  manifestUrl: string,
  baseUrl: string,
  records: readonly PackRecord[] = [],
): string | null {
  const entries = catalog(baseUrl);
  const own = entries.find((entry) => entry.manifestUrl === manifestUrl);
  if (own) return own.id === null || own.id === id ? null : mismatch(id, own);
  const builtin =
    entries.find((entry) => entry.id === id) ??
    (records.some(
      (r) =>
        r.id === id &&
        r.origin === 'builtin' &&
        entries.some((e) => e.manifestUrl === r.manifestUrl),
    )
      ? { id, name: null }
      : null);
  if (!builtin) return null;
  const which = builtin.name
    ? `Gesso's built-in pack "${builtin.name}"`
    : `one of Gesso's built-in packs`;
  return `This pack's id "${id}" belongs to ${which}, so a pack from another address can't use it (it would replace the built-in one). Ask the pack's author to give it an id of its own.`;
}

function mismatch(id: string, entry: CatalogEntry): string {
  return `The manifest at Gesso's own address for "${entry.name ?? entry.id}" names a different pack ("${id}"). Reload Gesso to get a matching version.`;
}
