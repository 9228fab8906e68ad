/** The gallery's thumbnail grid, paged from IndexedDB as it scrolls. */

import { useEffect, useRef, useState } from 'preact/hooks';
import { GessoError } from '../../shared/errors';
import { listPage, onGalleryChange, type GalleryItem, type PageCursor } from '../../store/gallery';

export const PAGE_SIZE = 60;

interface Tile {
  item: GalleryItem;
  url: string | null;
}

interface Page {
  tiles: Tile[];
}

/** Images this small are drawn as crisp pixels when enlarged. */
export function isSmall(item: GalleryItem): boolean {
  return Math.max(item.recipe.width, item.recipe.height) <= 128;
}

function revoke(pages: Page[]): void {
  for (const page of pages)
    for (const tile of page.tiles) if (tile.url) URL.revokeObjectURL(tile.url);
}

/**
 * Thumbnails newest first. Pages of PAGE_SIZE load as the end of the grid
 * comes into view; each page makes object URLs for its own thumbnails, and
 * they are revoked when the grid reloads or goes away.
 */
export function GalleryGrid({ onOpen }: { onOpen: (item: GalleryItem) => void }) {
  const [pages, setPages] = useState<Page[]>([]);
  const [next, setNext] = useState<PageCursor | null>(null);
  const [done, setDone] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  /** Bumped on every reload, so a page that arrives late for an old list is dropped. */
  const epoch = useRef(0);
  const loading = useRef<number | null>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const pagesRef = useRef<Page[]>([]);
  pagesRef.current = pages;

  async function load(cursor: PageCursor | null, limit = PAGE_SIZE) {
    const mine = epoch.current;
    if (loading.current === mine) return;
    loading.current = mine;
    try {
      const page = await listPage(cursor, limit);
      const tiles = page.entries.map(({ item, thumb }) => ({
        item,
        url: thumb ? URL.createObjectURL(thumb) : null,
      }));
      if (mine !== epoch.current) {
        revoke([{ tiles }]);
        return;
      }
      if (cursor === null) {
        // A reload replaces what is shown only once the new thumbnails are ready.
        revoke(pagesRef.current);
        pagesRef.current = [{ tiles }];
        setPages([{ tiles }]);
      } else {
        setPages((old) => [...old, { tiles }]);
      }
      setNext(page.next);
      setDone(page.next === null);
      setLoaded(true);
      setError(null);
    } catch (cause) {
      if (mine === epoch.current)
        setError(cause instanceof GessoError ? cause.message : 'The gallery could not be read.');
    } finally {
      if (loading.current === mine) loading.current = null;
    }
  }

  // Reload whenever the gallery changes (new image, delete, undo, clear),
  // as many items as were shown, so the scroll position holds.
  useEffect(() => onGalleryChange(() => setGeneration((g) => g + 1)), []);
  useEffect(() => {
    epoch.current++;
    const shown = pagesRef.current.reduce((sum, page) => sum + page.tiles.length, 0);
    void load(null, Math.max(PAGE_SIZE, shown));
  }, [generation]);
  useEffect(() => () => revoke(pagesRef.current), []);

  // Load the next page when the end of the grid is near.
  useEffect(() => {
    const target = sentinel.current;
    if (!target || done || pages.length === 0) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) void load(next);
      },
      { rootMargin: '600px 0px' },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [next, done, pages.length]);

  const shown = pages.reduce((sum, page) => sum + page.tiles.length, 0);

  if (error) return <p role="alert">{error}</p>;
  if (!loaded) return <p class="gallery-empty">Loading…</p>;
  if (done && shown === 0)
    return (
      <p class="gallery-empty">
        No images yet. Everything you make on the Create screen is kept here. To bring back the
        recipe of a PNG made by Gesso or another Stable Diffusion app, open it or drop it here.
      </p>
    );
  return (
    <>
      <ul class="gallery-grid" aria-label="Images, newest first">
        {pages.map((page) =>
          page.tiles.map(({ item, url }) => (
            <li key={item.id} class={isSmall(item) ? 'gallery-pixelated' : undefined}>
              <button type="button" class="gallery-tile" onClick={() => onOpen(item)}>
                {url ? (
                  <img
                    src={url}
                    alt={item.recipe.prompt || 'Image without a prompt'}
                    loading="lazy"
                    decoding="async"
                    width={item.recipe.width}
                    height={item.recipe.height}
                  />
                ) : (
                  <span class="gallery-tile-missing">{item.recipe.prompt || 'Image'}</span>
                )}
              </button>
            </li>
          )),
        )}
      </ul>
      {!done && <div ref={sentinel} class="gallery-sentinel" aria-hidden="true" />}
    </>
  );
}
