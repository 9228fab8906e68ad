/** A recipe from the Gallery (Remix, Open image) fills the Create state: prompt, settings, regions. */

import { useEffect } from 'preact/hooks';
import { activeRegions, decodeLayout, emptyLayout } from '../../shared/regions/layout';
import { remix, type RemixRequest } from '../app/remix';
import { restoreLayout } from '../draw';
import { choicesFromRecipe, seedRefusal } from './create-choices';
import { updateCreate } from './create-store';
import { NO_DRAFTS } from './number-fields';
import { selectTool } from './useTools';

function apply(request: RemixRequest | null, choosePack: (packId: string) => void): void {
  if (!request) return;
  const { recipe, seedText } = request;
  updateCreate((s) => ({
    ...s,
    prompt: recipe.prompt,
    choices: {
      ...choicesFromRecipe(recipe, s.choices),
      ...(seedText ? { fixedSeed: true } : {}),
    },
    // A seed Gesso cannot run stays in the field as written, refused by name: never another number.
    drafts: seedText ? { ...NO_DRAFTS, seed: seedText } : NO_DRAFTS,
    decoder: recipe.decoder ?? s.decoder,
    notices: seedText ? [seedRefusal(seedText)] : [],
  }));
  if (recipe.pack?.id) choosePack(recipe.pack.id);
  // The regions it was made with, or none, so the same recipe makes the same image.
  let layout = emptyLayout();
  try {
    if (recipe.regions) layout = decodeLayout(recipe.regions);
  } catch {
    // An unreadable layout (another app's PNG): start clean.
  }
  restoreLayout(layout);
  // Regions with prompts are part of the recipe: the Regions tool opens to show them.
  if (activeRegions(layout).length > 0) selectTool('regions');
}

export function useRemix(choosePack: (packId: string) => void): void {
  useEffect(() => {
    apply(remix.take(), choosePack);
    return remix.subscribe((request) => request && apply(remix.take(), choosePack));
  }, []);
}
