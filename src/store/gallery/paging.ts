/** Pure helpers for the gallery: paging cursors, thumbnail sizes, ids. */

/** Where the next page starts: the last item seen (newest-first order). */
export interface PageCursor {
  createdAt: number;
  id: string;
}

/** The cursor after a page, or null when the page was the last one. */
export function nextCursor<T extends PageCursor>(page: T[], limit: number): PageCursor | null {
  const last = page[page.length - 1];
  return page.length === limit && last ? { createdAt: last.createdAt, id: last.id } : null;
}

/** A size no larger than `max` on its longer side, keeping the aspect ratio; never enlarges. */
export function fitWithin(
  width: number,
  height: number,
  max: number,
): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/** A sortable, unique id: creation time first, then randomness. */
export function newItemId(
  createdAt: number,
  random: () => string = () => crypto.randomUUID(),
): string {
  return `${createdAt.toString(36).padStart(9, '0')}-${random().slice(0, 8)}`;
}
