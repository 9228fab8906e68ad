/**
 * Whether the service worker takes a download, decided by the worker itself
 * (never by what the page says): pure, from the request, the catalog and
 * what is stored.
 *
 * - A pack is built-in only when its manifest address is a catalog address;
 *   a bundled catalog manifest is taken from the worker's own copy.
 * - Built-in pack ids are reserved: a pack from any other address with one
 *   is refused with a sentence.
 * - A pack the user added is never replaced by a pack from another address:
 *   not by a built-in's install (the automatic one just skips it), not by
 *   another user pack that happens to have the same id.
 */

import { catalogEntryAt, reservedIdFault } from '../../src/store/catalog';
import type { PackRecord } from '../../src/store/records';
import { parseManifest, type PackManifestInput } from '../../src/store/validate-manifest';

export type Admission =
  | { kind: 'start'; manifest: PackManifestInput; origin: PackRecord['origin'] }
  /** That version is installed already: nothing to do. */
  | { kind: 'installed' }
  /** An automatic install that must not happen (the id is taken by the user's own pack). */
  | { kind: 'skip'; why: string }
  | { kind: 'refuse'; message: string };

export interface AdmissionRequest {
  manifest: PackManifestInput;
  manifestUrl: string;
  baseUrl: string;
  /** The stored record with the manifest's id, if any. */
  existing: PackRecord | undefined;
  /** Every stored record (for ids of built-ins not known at build time). */
  records: readonly PackRecord[];
  /** The worker's own built-in install, not a user's request. */
  automatic?: boolean;
}

export function admitDownload(request: AdmissionRequest): Admission {
  const { manifestUrl, baseUrl, existing } = request;
  const entry = catalogEntryAt(baseUrl, manifestUrl);
  let manifest = request.manifest;
  if (entry?.manifest) manifest = parseManifest(entry.manifest);
  const fault = reservedIdFault(manifest.id, manifestUrl, baseUrl, request.records);
  if (fault) return { kind: 'refuse', message: fault };
  const origin: PackRecord['origin'] = entry ? 'builtin' : 'user';

  if (existing && existing.manifestUrl !== manifestUrl) {
    const theirs = existing.installed?.manifest.name ?? existing.manifest.name;
    if (origin === 'builtin') {
      // Stored before built-in ids were reserved: the user's pack stays until the user deletes it.
      const why = `"${theirs}", added from ${existing.manifestUrl}, uses the id "${manifest.id}" of Gesso's built-in pack. Delete it in Models first, then download the built-in one.`;
      return request.automatic ? { kind: 'skip', why } : { kind: 'refuse', message: why };
    }
    return {
      kind: 'refuse',
      message: `You already have a pack with the id "${manifest.id}" ("${theirs}", added from ${existing.manifestUrl}). Delete it first to add this one, or ask the pack's author to give it an id of its own.`,
    };
  }
  if (existing?.installed?.version === manifest.version) return { kind: 'installed' };
  return { kind: 'start', manifest, origin };
}
