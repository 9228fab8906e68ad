/** Reads what the Create screen kept: the recipes in the app's gallery database, oldest first. */

import type { Page } from 'playwright-core';
import type { Recipe } from '../../../src/shared/recipe';

export async function keptRecipes(page: Page): Promise<Recipe[]> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('gesso-gallery');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    if (!db.objectStoreNames.contains('items')) return [];
    const items = await new Promise<{ createdAt: number; recipe: Recipe }[]>((resolve) => {
      const request = db.transaction('items').objectStore('items').getAll();
      request.onsuccess = () => resolve(request.result as { createdAt: number; recipe: Recipe }[]);
    });
    db.close();
    return items.sort((a, b) => a.createdAt - b.createdAt).map((item) => item.recipe);
  });
}
