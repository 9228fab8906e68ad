/** A recipe from the Gallery (Remix, Open image) fills the Create state: prompt, settings, regions. */

import { useEffect } from 'preact/hooks';
import { decodeLayout, emptyLayout } from '../../shared/regions/layout';
import { remix, type RemixRequest } from '../app/remix';
import { restoreLayout } from '../draw';
import { choicesFromRecipe, seedRefusal } from './create-choices';
import { updateCreate } from './create-store';
import { NO_DRAFTS } from './number-fields';

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
  try {
    restoreLayout(recipe.regions ? decodeLayout(recipe.regions) : emptyLayout());
  } catch {
    restoreLayout(emptyLayout()); // an unreadable layout (another app's PNG): start clean
  }
}

export function useRemix(choosePack: (packId: string) => void): void {
  useEffect(() => {
    apply(remix.take(), choosePack);
    return remix.subscribe((request) => request && apply(remix.take(), choosePack));
  }, []);
}
