/** The picture area of the Create screen: live preview, result, and the drawing surface over them. */

import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { RgbaImage } from '../../engine/api';
import { drawRgba } from '../../shared/rgba';
import { DrawingLayer } from '../draw';
import type { Recipe } from '../../shared/recipe';
import type { GenerationResult } from './useGeneration';

/** Alt text longer than this is cut at a word, with an ellipsis: a screen reader reads it whole. */
export const ALT_MAX = 150;

function cut(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= ALT_MAX) return flat;
  const head = flat.slice(0, ALT_MAX - 1);
  const space = head.lastIndexOf(' ');
  return `${(space > ALT_MAX / 2 ? head.slice(0, space) : head).trimEnd()}…`;
}

/** The result's text alternative: its prompt, or its regions' prompts where the main prompt was empty; cut to a readable length. */
export function resultAlt(recipe: Pick<Recipe, 'prompt' | 'regions'>): string {
  if (recipe.prompt.trim()) return cut(`Generated image: ${recipe.prompt}`);
  const regions = (recipe.regions?.regions ?? [])
    .filter((region) => !region.hidden && region.prompt.trim() !== '')
    .map((region) => region.prompt.trim());
  return regions.length > 0
    ? cut(`Generated image from regions: ${regions.join(', ')}`)
    : 'Generated image';
}

/** The picture area: the live preview while generating, then the result. */
export function ResultView({
  preview,
  result,
  busy,
  drawing = true,
  overlay = null,
  empty = null,
}: {
  preview: RgbaImage | null;
  result: GenerationResult | null;
  busy: boolean;
  /** The drawing surface takes strokes (a drawing tool is open); otherwise the canvas is just the picture. */
  drawing?: boolean;
  /** What an empty canvas shows (the first visit's examples); null: a one-line hint. */
  empty?: ComponentChildren;
  /** A word's attention map laid over the result (Explain); decorative, its own image is named. */
  overlay?: { url: string; opacity: number } | null;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (preview && canvas.current) drawRgba(canvas.current, preview);
  }, [preview]);
  const showPreview = busy && preview !== null;
  return (
    <div class="canvas-area" aria-busy={busy}>
      {/* The drawing surface, over the picture and zooming with it */}
      <DrawingLayer enabled={drawing}>
        {showPreview && (
          <canvas
            ref={canvas}
            class="picture"
            aria-label="Preview of the image being made"
            role="img"
          />
        )}
        {!showPreview && result && (
          <img class="picture" src={result.url} alt={resultAlt(result.output.recipe)} />
        )}
        {!showPreview && result && overlay && (
          <img
            class="picture attention-overlay"
            src={overlay.url}
            alt=""
            aria-hidden="true"
            style={{ opacity: overlay.opacity }}
          />
        )}
        {!showPreview &&
          !result &&
          (empty ?? (
            <p class="canvas-hint">{busy ? 'Starting…' : 'Your image will appear here.'}</p>
          ))}
      </DrawingLayer>
    </div>
  );
}
