/** The built-in catalog (models/catalog): bundled into the page and the service worker. */

import index from '../../models/catalog/index.json';
import lcm from '../../models/catalog/lcm-dreamshaper-v7.json';
import sdTurbo from '../../models/catalog/sd-turbo.json';
import sdxs from '../../models/catalog/sdxs-512.json';
import type { PackManifestInput } from './validate-manifest';

export interface CatalogEntry {
  /** Manifest URL, absolute (resolved against the app's base URL). */
  manifestUrl: string;
  /** Bundled manifest, or null when it is fetched from manifestUrl (the demo pack). */
  manifest: PackManifestInput | null;
  /** Installed on the first visit without asking. */
  autoInstall: boolean;
}

const BUNDLED: Record<string, unknown> = {
  'sd-turbo.json': sdTurbo,
  'lcm-dreamshaper-v7.json': lcm,
  'sdxs-512.json': sdxs,
};

interface IndexEntry {
  manifestUrl?: string;
  manifest?: string;
  autoInstall?: boolean;
}

export function catalog(baseUrl: string): CatalogEntry[] {
  return (index.packs as IndexEntry[]).map((entry) => {
    const bundled = entry.manifest ? (BUNDLED[entry.manifest] as PackManifestInput) : null;
    const manifestUrl = entry.manifestUrl
      ? new URL(entry.manifestUrl, baseUrl).href
      : // Bundled manifests give every file an absolute url; this address only names them.
        new URL(`catalog/${entry.manifest}`, baseUrl).href;
    return { manifestUrl, manifest: bundled, autoInstall: entry.autoInstall === true };
  });
}
