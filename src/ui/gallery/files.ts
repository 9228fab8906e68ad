/** Getting a PNG out of the app (download, share) and a recipe out of a PNG (open, drop). */

import { GessoError } from '../../shared/errors';
import { readPngText } from '../../shared/png-text';
import type { Recipe } from '../../shared/recipe';
import { gessoRecipeProblem, recipeFromText, type RestoredRecipe } from '../../shared/recipe-text';

/** e.g. `gesso-red-heart-123.png`: readable, safe on every file system. */
export function pngFileName(recipe: Pick<Recipe, 'prompt' | 'seed'>): string {
  const slug = recipe.prompt
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `gesso-${slug ? `${slug}-` : ''}${recipe.seed}.png`;
}

/** Starts a download of `blob` named `name`. */
export function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** True where the Web Share API can share this file (mobile browsers, mostly). */
export function canShareFile(file: File): boolean {
  return typeof navigator.canShare === 'function' && navigator.canShare({ files: [file] });
}

/** The recipe a PNG carries, or a GessoError saying why there is none. */
export async function recipeFromFile(file: Blob): Promise<RestoredRecipe> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const entries = await readPngText(bytes);
  const restored = recipeFromText(entries);
  // A Gesso recipe that is there but unsound is said precisely, not as no recipe at all.
  const problem = restored ? null : gessoRecipeProblem(entries);
  if (problem) throw new GessoError('invalid-image', problem);
  if (!restored)
    throw new GessoError(
      'invalid-image',
      'This PNG carries no recipe: it has no Gesso recipe and no “parameters” text. Open a PNG saved by Gesso or by another Stable Diffusion app.',
    );
  return restored;
}
