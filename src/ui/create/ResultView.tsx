/** The picture area of the Create screen: live preview, result, and the drawing surface over them. */

import { useEffect, useRef } from 'preact/hooks';
import type { RgbaImage } from '../../engine/api';
import { drawRgba } from '../../shared/rgba';
import { DrawingLayer } from '../draw';
import type { Recipe } from '../../shared/recipe';
import type { GenerationResult } from './useGeneration';

/** The result's text alternative: its prompt, or its regions' prompts where the main prompt was empty. */
export function resultAlt(recipe: Pick<Recipe, 'prompt' | 'regions'>): string {
  if (recipe.prompt.trim()) return `Generated image: ${recipe.prompt}`;
  const regions = (recipe.regions?.regions ?? [])
    .filter((region) => !region.hidden && region.prompt.trim() !== '')
    .map((region) => region.prompt.trim());
  return regions.length > 0
    ? `Generated image from regions: ${regions.join(', ')}`
    : 'Generated image';
}

/** The picture area: the live preview while generating, then the result. */
export function ResultView({
  preview,
  result,
  busy,
  overlay = null,
}: {
  preview: RgbaImage | null;
  result: GenerationResult | null;
  busy: boolean;
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
      <DrawingLayer>
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
        {!showPreview && !result && (
          <p class="canvas-hint">{busy ? 'Starting…' : 'Your image will appear here.'}</p>
        )}
      </DrawingLayer>
    </div>
  );
}
