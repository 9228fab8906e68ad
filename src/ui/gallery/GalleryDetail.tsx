/** One gallery image full size, with its recipe and its actions (remix, save, share, delete). */

import { useEffect, useRef, useState } from 'preact/hooks';
import { GessoError } from '../../shared/errors';
import { paintedShare } from '../../shared/mask-runs';
import { loraTag, modelHash } from '../../shared/model-source';
import type { Recipe } from '../../shared/recipe';
import { getImage, type GalleryItem } from '../../store/gallery';
import { canShareFile, downloadBlob, pngFileName } from './files';
import { isSmall } from './GalleryGrid';
import { AttentionMaps, useAttentionView } from '../explain/AttentionMaps';

/** An imported pack's file, hash and LoRAs, as the PNG's `parameters` write them. */
function modelFacts(r: Recipe): [string, string][] {
  if (!r.model) return [];
  const { name, sha256, loras } = r.model;
  const rows: [string, string][] = [
    ['Model file', sha256 ? `${name}, hash ${modelHash(sha256)}` : name],
  ];
  if (loras.length > 0) rows.push(['LoRAs', loras.map(loraTag).join(' ')]);
  return rows;
}

function facts(item: GalleryItem): [string, string][] {
  const r: Recipe = item.recipe;
  const rows: [string, string][] = [['Prompt', r.prompt || '(none)']];
  if (r.negativePrompt) rows.push(['Negative prompt', r.negativePrompt]);
  rows.push(
    ['Model', `${r.pack.id} ${r.pack.version} (${r.pack.variant})`],
    ...modelFacts(r),
    ['Steps', String(r.steps)],
    ['Guidance', String(r.guidance)],
    ['Seed', String(r.seed)],
    ['Size', `${r.width} × ${r.height}`],
  );
  if (r.sampler) rows.push(['Sampler', r.sampler]);
  if (r.regions !== undefined && r.regions !== null) rows.push(['Regions', 'yes']);
  if (r.startImage) rows.push(['Start image', `a photo, strength ${r.startImage.strength}`]);
  if (r.repaint)
    rows.push([
      'Repainted',
      `${Math.round(100 * paintedShare(r.repaint.mask))}% of ${r.repaint.parent ? 'an earlier image' : 'a picture'}`,
    ]);
  if (r.outline) rows.push(['Outline', `followed at strength ${r.outline.strength.toFixed(2)}`]);
  rows.push(['Backend', item.run.backend]);
  const total = item.run.timings.totalMs ?? item.run.timings.total;
  if (typeof total === 'number') rows.push(['Time', `${(total / 1000).toFixed(1)} s`]);
  rows.push(['Made', new Date(item.createdAt).toLocaleString()]);
  return rows;
}

/** One image, full size, with its recipe and what can be done with it. */
export function GalleryDetail({
  item,
  onClose,
  onRemix,
  onDelete,
}: {
  item: GalleryItem;
  onClose: () => void;
  onRemix: (item: GalleryItem) => void;
  onDelete: (item: GalleryItem) => void;
}) {
  const [png, setPng] = useState<Blob | null>(null);
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  const attention = useAttentionView(item.explanation ?? null);

  useEffect(() => {
    let live = true;
    let made: string | null = null;
    getImage(item.id)
      .then((blob) => {
        if (!live) return;
        if (!blob) throw new GessoError('internal', 'This image is no longer in the gallery.');
        made = URL.createObjectURL(blob);
        setPng(blob);
        setUrl(made);
      })
      .catch(
        (cause: unknown) =>
          live && setError(cause instanceof Error ? cause.message : String(cause)),
      );
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [item.id]);

  useEffect(() => {
    closeButton.current?.focus();
    const onKey = (event: KeyboardEvent) => event.key === 'Escape' && onClose();
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const name = pngFileName(item.recipe);
  const file = png ? new File([png], name, { type: 'image/png' }) : null;
  const shareable = file !== null && canShareFile(file);

  async function share() {
    if (!file) return;
    try {
      await navigator.share({ files: [file], title: 'Made with Gesso', text: item.recipe.prompt });
    } catch (cause) {
      if ((cause as { name?: unknown }).name !== 'AbortError')
        setError(`Sharing failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }

  return (
    <div class="gallery-detail" role="dialog" aria-modal="true" aria-labelledby="detail-title">
      <div class="gallery-detail-bar">
        <button type="button" ref={closeButton} onClick={onClose}>
          ‹ Back
        </button>
        <h2 id="detail-title">Image</h2>
      </div>
      <div
        class={`gallery-detail-image${isSmall(item) ? ' gallery-pixelated' : ''}`}
        style={{ aspectRatio: `${item.recipe.width} / ${item.recipe.height}` }}
      >
        {url && (
          <img
            src={url}
            alt={`Image: ${item.recipe.prompt}`}
            width={item.recipe.width}
            height={item.recipe.height}
          />
        )}
        {url && attention?.overlay && (
          <img
            class="attention-overlay"
            src={attention.overlay.url}
            alt=""
            aria-hidden="true"
            style={{ opacity: attention.overlay.opacity }}
          />
        )}
      </div>
      {attention && <AttentionMaps view={attention} />}
      {error && <p role="alert">{error}</p>}
      <div class="gallery-actions">
        <button type="button" class="primary" onClick={() => onRemix(item)}>
          Remix
        </button>
        <button type="button" disabled={!png} onClick={() => png && downloadBlob(png, name)}>
          Save
        </button>
        {shareable && (
          <button type="button" onClick={share}>
            Share
          </button>
        )}
        <button type="button" class="danger" onClick={() => onDelete(item)}>
          Delete
        </button>
      </div>
      <dl class="facts">
        {facts(item).map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
