/** Reads what the Create screen kept: the recipes in the app's gallery database, oldest first. */

import type { Page } from 'playwright-core';
import type { Recipe } from '../../../src/shared/recipe';

export async function keptRecipes(page: Page): Promise<Recipe[]> {
  return page.evaluate(async () => {
    // Never create the database: an empty one opened here (and a connection
    // left open) would block the app's own versioned open, so nothing is kept.
    const names = (await indexedDB.databases()).map((d) => d.name);
    if (!names.includes('gesso-gallery')) return [];
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('gesso-gallery');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    if (!db.objectStoreNames.contains('items')) {
      db.close();
      return [];
    }
    const items = await new Promise<{ createdAt: number; recipe: Recipe }[]>((resolve) => {
      const request = db.transaction('items').objectStore('items').getAll();
      request.onsuccess = () => resolve(request.result as { createdAt: number; recipe: Recipe }[]);
    });
    db.close();
    return items.sort((a, b) => a.createdAt - b.createdAt).map((item) => item.recipe);
  });
}
