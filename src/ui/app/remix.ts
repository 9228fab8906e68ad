/**
 * A recipe waiting for the Create screen: the Gallery's "Remix" and "Open
 * image" put one here and go to Create, which takes it and fills its fields.
 */

import type { RecipeDraft } from '../../shared/recipe';

export interface RemixRequest {
  recipe: RecipeDraft;
  /** True when every field is known (a Gesso recipe), false for a partial one. */
  exact: boolean;
  source: 'gallery' | 'file';
  /** The seed as written where Gesso cannot run it (another tool's 64-bit seed): refused by name. */
  seedText?: string;
}

type Listener = (request: RemixRequest | null) => void;

let current: RemixRequest | null = null;
const listeners = new Set<Listener>();

export const remix = {
  get(): RemixRequest | null {
    return current;
  },
  set(request: RemixRequest | null): void {
    current = request;
    listeners.forEach((listener) => listener(current));
  },
  /** The waiting recipe, once: it is cleared so a later visit starts fresh. */
  take(): RemixRequest | null {
    const request = current;
    current = null;
    return request;
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

/** Puts the recipe in the store and opens the Create screen. */
export function remixInCreate(request: RemixRequest): void {
  remix.set(request);
  location.hash = '#/create';
}
