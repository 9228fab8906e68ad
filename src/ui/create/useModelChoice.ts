/** The "Model" select's state: installed packs (kept fresh from store events), the remembered choice, and recipes asking for a pack. */

import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { catalog } from '../../store/catalog';
import { listStoredPacks, onStoreEvent } from '../../store/packs';
import type { PackRecord } from '../../store/records';
import { parseManifest, type PackManifestInput } from '../../store/validate-manifest';
import {
  choiceForPack,
  chooseModel,
  isDemoRecord,
  modelOptions,
  vanishedChoice,
  vanishedNotice,
  type ModelOption,
} from './model-choice';

const CHOICE_KEY = 'gesso.model';

const BASE = new URL(import.meta.env.BASE_URL, location.href).href;

/** The built-in demo pack: the catalog's pack that is installed without asking, from the app's own server. */
const DEMO_MANIFEST_URL =
  catalog(BASE).find((entry) => entry.autoInstall && !entry.manifest)?.manifestUrl ?? '';

/** The model the user chose last (a stored pack id, or DEMO_CHOICE), or null. */
export function rememberedChoice(): string | null {
  return globalThis.localStorage?.getItem(CHOICE_KEY) ?? null;
}

async function fetchDemoManifest(): Promise<PackManifestInput | null> {
  try {
    const response = await fetch(DEMO_MANIFEST_URL, { cache: 'no-cache' });
    return response.ok ? parseManifest(await response.json()) : null;
  } catch {
    return null; // Offline before the demo pack is installed: the select says "Built-in demo".
  }
}

export interface ModelChoice {
  options: ModelOption[];
  /** The select's value: the remembered pack while installed, else the demo pack. */
  choice: string;
  /** The user picked a model: use it and remember it. */
  choose: (choice: string) => void;
  /** A recipe names a pack: choose it if installed (once the installed packs are known). */
  choosePack: (packId: string) => void;
  /**
   * A sentence for the Create screen when the chosen pack was deleted while
   * in use (in another tab) and the demo pack took its place; null otherwise.
   * Cleared when the user chooses a model.
   */
  notice: string | null;
  /** The installed packs have been read: `choice` is the real one, not the demo pack meanwhile. */
  known: boolean;
}

export function useModelChoice(): ModelChoice {
  /** null until the store has been read. */
  const [records, setRecords] = useState<PackRecord[] | null>(null);
  /** undefined while fetching (or not yet needed), null when it could not be had. */
  const [fetchedDemo, setFetchedDemo] = useState<PackManifestInput | null | undefined>(undefined);
  const [remembered, setRemembered] = useState(rememberedChoice);
  const [wantedPack, setWantedPack] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const list = () =>
      listStoredPacks()
        .then((r) => live && setRecords(r))
        .catch(() => live && setRecords((r) => r ?? []));
    list();
    const stop = onStoreEvent((event) => event.type === 'changed' && list());
    return () => {
      live = false;
      stop();
    };
  }, []);

  const demoStored = records?.some((r) => isDemoRecord(r, DEMO_MANIFEST_URL) && r.installed);
  useEffect(() => {
    if (records === null || demoStored || fetchedDemo !== undefined) return;
    let live = true;
    void fetchDemoManifest().then((manifest) => live && setFetchedDemo(manifest));
    return () => {
      live = false;
    };
  }, [records, demoStored]);

  const options = useMemo(
    () => modelOptions(records ?? [], DEMO_MANIFEST_URL, fetchedDemo ?? null),
    [records, fetchedDemo],
  );
  const choice = chooseModel(remembered, options);

  // The chosen pack vanished from the installed packs (deleted in another tab): say so.
  const [notice, setNotice] = useState<string | null>(null);
  const shown = useRef<ModelOption[] | null>(null);
  useEffect(() => {
    if (records === null) return;
    const before = shown.current;
    shown.current = options;
    const gone = before ? vanishedChoice(remembered, before, options) : null;
    if (gone) setNotice(vanishedNotice(gone, options));
  }, [options]);

  const choose = useCallback((next: string) => {
    setRemembered(next);
    setNotice(null);
    globalThis.localStorage?.setItem(CHOICE_KEY, next);
  }, []);

  const choosePack = useCallback((packId: string) => setWantedPack(packId), []);

  useEffect(() => {
    if (wantedPack === null || records === null) return;
    const found = choiceForPack(wantedPack, options);
    if (found !== null) choose(found);
    // Not installed (and not the demo pack, once its id is known): keep the current model.
    const demoKnown = options[0]?.packId !== null || fetchedDemo !== undefined;
    if (found !== null || demoKnown) setWantedPack(null);
  }, [wantedPack, records, options]);

  return { options, choice, choose, choosePack, notice, known: records !== null };
}
