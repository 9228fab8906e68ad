/** The Create screen's "Model" choices: the built-in demo pack, then every installed pack. Pure. */

import type { PackRecord } from '../../store/records';
import type { PackManifestInput } from '../../store/validate-manifest';
import { FALLBACK_CONTROLS, controlsFromManifest, type PackControls } from './pack-controls';

/** The select's value for the built-in demo pack: `loadPack` is called without a packId. */
export const DEMO_CHOICE = '';

export interface ModelOption {
  /** The select's value: DEMO_CHOICE or a stored pack's id. */
  value: string;
  /** The pack's manifest id (what recipes record); null while the demo pack's is unknown. */
  packId: string | null;
  label: string;
  /** From the manifest; null while unknown. */
  settings: PackControls | null;
}

const DEMO_LABEL = 'Built-in demo';

/** The stored copy of the built-in demo pack, found by the catalog's manifest URL. */
export function isDemoRecord(record: PackRecord, demoManifestUrl: string): boolean {
  return record.origin === 'builtin' && record.manifestUrl === demoManifestUrl;
}

/**
 * The demo pack first (always there: the engine loads it from the store or the
 * app's server), then the installed packs by name. A pack with an update
 * downloading is still installed, so it is listed.
 * `demoManifest`: the demo pack's manifest when fetched (null while unknown).
 */
export function modelOptions(
  records: PackRecord[],
  demoManifestUrl: string,
  demoManifest: PackManifestInput | null,
): ModelOption[] {
  const storedDemo = records.find((r) => isDemoRecord(r, demoManifestUrl))?.installed?.manifest;
  const demo = storedDemo ?? demoManifest;
  const installed = records
    .filter((r) => r.installed && !isDemoRecord(r, demoManifestUrl))
    .map((r) => ({
      value: r.id,
      packId: r.id,
      label: r.installed!.manifest.name,
      settings: controlsFromManifest(r.installed!.manifest),
    }))
    .sort((a, b) => a.label.localeCompare(b.label));
  return [
    {
      value: DEMO_CHOICE,
      packId: demo?.id ?? null,
      label: demo?.name ?? DEMO_LABEL,
      settings: demo ? controlsFromManifest(demo) : null,
    },
    ...installed,
  ];
}

/** The remembered choice while it is still installed; the demo pack otherwise. */
export function chooseModel(remembered: string | null, options: ModelOption[]): string {
  return options.some((o) => o.value === remembered) ? remembered! : DEMO_CHOICE;
}

/**
 * The option the user had chosen, when it was there before and is gone now
 * (its pack was deleted, e.g. in another tab); null otherwise.
 */
export function vanishedChoice(
  chosen: string | null,
  before: ModelOption[],
  after: ModelOption[],
): ModelOption | null {
  if (chosen === null || chosen === DEMO_CHOICE) return null;
  if (after.some((o) => o.value === chosen)) return null;
  return before.find((o) => o.value === chosen) ?? null;
}

/** What the Create screen says when the chosen pack vanished and the demo pack took its place. */
export function vanishedNotice(gone: ModelOption, options: ModelOption[]): string {
  const demo = options.find((o) => o.value === DEMO_CHOICE)?.label ?? DEMO_LABEL;
  return `"${gone.label}" was deleted (in another tab or window), so Create now uses "${demo}". Download it again in Models to use it.`;
}

/** The choice that loads the pack a recipe names, or null when that pack is not installed. */
export function choiceForPack(packId: string, options: ModelOption[]): string | null {
  return options.find((o) => o.packId === packId)?.value ?? null;
}

/** `loadPack`'s packId for a choice: omitted for the demo pack. */
export function packIdArg(choice: string): string | undefined {
  return choice === DEMO_CHOICE ? undefined : choice;
}

/** The settings the controls show for a choice: the loaded pack's once it is loaded, else its manifest's. */
export function controlsFor(
  choice: string,
  options: ModelOption[],
  loaded: { choice: string; pack: PackControls } | null,
): PackControls {
  if (loaded?.choice === choice) return loaded.pack;
  return options.find((o) => o.value === choice)?.settings ?? FALLBACK_CONTROLS;
}
