/**
 * The built-in catalog (models/catalog): every manifest listed in its
 * index.json, bundled into the page and the service worker at build time.
 * Adding a pack to the catalog is adding its manifest file and a line in
 * index.json; nothing here changes.
 */

import index from '../../models/catalog/index.json';
import type { PackManifestInput } from './validate-manifest';

export interface CatalogEntry {
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

interface IndexEntry {
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
    return { manifestUrl, manifest: bundled, autoInstall: entry.autoInstall === true };
  });
}
