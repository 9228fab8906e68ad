/** Runs generations on the engine worker: load on demand, progress, preview, cancel. */

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { GenerateOutput, LoadedPackInfo, RgbaImage } from '../../engine';
import type { RecipeRequest } from '../../shared/recipe';
import { isAbortError } from '../../shared/errors';
import { engineFor, loadBackendPreference, markLoaded, recoverFrom } from '../app/engine';
import { guidanceArgs, stepsFor } from './pack-controls';
import { encodePng } from '../../shared/rgba';
import { fitPhoto } from './start-image/photo';

export interface GenerationResult {
  /** The engine's answer: pixels, the recipe as it ran, backend and timings. */
  output: GenerateOutput;
  /** A PNG of the image, and an object URL for it. */
  blob: Blob;
  url: string;
  /** Click to pixels, measured on the page. */
  elapsedMs: number;
  /** The photo it started from, at the pack's size (Explain runs the same recipe again with it). */
  startImage?: { image: RgbaImage; strength: number };
  /** The picture and mask it repainted (Explain needs them again too). */
  repaint?: NonNullable<GenerationRequest['repaint']>;
  /** The outline it followed, at the pack's size (Explain follows it again). */
  outline?: NonNullable<RecipeRequest['outline']>;
}

export type GenerationStatus = 'idle' | 'loading' | 'running' | 'done' | 'cancelled' | 'error';

export interface GenerationState {
  status: GenerationStatus;
  /** Loading: bytes; running: steps. */
  done: number;
  total: number;
  /** Loading: the model is loaded and runs once so the GPU compiles its shaders (WebGPU). */
  preparingGpu: boolean;
  preview: RgbaImage | null;
  result: GenerationResult | null;
  error: string | null;
  pack: LoadedPackInfo | null;
  /** The packId `pack` was loaded for (undefined: the built-in demo pack). */
  packRequested: string | undefined;
}

/** A recipe request for a pack; the guidance fields are trimmed to what the loaded pack uses. */
export interface GenerationRequest extends Omit<RecipeRequest, 'guidance' | 'outline'> {
  /** A stored pack's id; undefined: the built-in demo pack. */
  packId: string | undefined;
  /** null: the pack's default. */
  guidance: number | null;
  /** A photo to start from (any size: cropped and scaled to the pack's once it is loaded). */
  startPhoto?: { bitmap: ImageBitmap; strength: number };
  /** Repaint the painted part of the current result (the engine checks it is the pack's size). */
  repaint?: { image: RgbaImage; mask: Uint8Array };
  /**
   * Follow a drawn outline: `lines` rasterises it at the loaded pack's size
   * (null: no line there, so none is sent).
   */
  outline?: {
    lines: (size: { width: number; height: number }) => Uint8Array | null;
    strength: number;
  };
}

const INITIAL: GenerationState = {
  status: 'idle',
  done: 0,
  total: 0,
  preparingGpu: false,
  preview: null,
  result: null,
  error: null,
  pack: null,
  packRequested: undefined,
};

export function useGeneration() {
  const [state, setState] = useState<GenerationState>(INITIAL);
  const controller = useRef<AbortController | null>(null);
  const urls = useRef<string[]>([]);

  useEffect(
    () => () => {
      controller.current?.abort();
      urls.current.forEach((url) => URL.revokeObjectURL(url));
    },
    [],
  );

  const generate = useCallback(async (request: GenerationRequest) => {
    controller.current?.abort();
    const abort = new AbortController();
    controller.current = abort;
    const { signal } = abort;
    const started = performance.now();
    const engine = engineFor(request.packId);
    setState((s) => ({
      ...s,
      status: 'loading',
      done: 0,
      total: 0,
      preparingGpu: false,
      preview: null,
      error: null,
    }));
    let photo: { bitmap: ImageBitmap; strength: number } | undefined;
    try {
      // The photo as it is now: the picker may replace (and close) its bitmap while the pack loads.
      if (request.startPhoto)
        photo = {
          bitmap: await createImageBitmap(request.startPhoto.bitmap),
          strength: request.startPhoto.strength,
        };
      const pack = await engine.call(
        'loadPack',
        { packId: request.packId, preference: loadBackendPreference() },
        {
          signal,
          onProgress: (p) =>
            setState((s) => ({
              ...s,
              done: p.loaded,
              total: p.total,
              preparingGpu: p.phase === 'warm-up',
            })),
        },
      );
      markLoaded(request.packId, pack.packId);
      // The loaded pack has the last word on range and guidance kind (the fields went by its manifest).
      const steps = stepsFor(request.steps, pack);
      const guidance = guidanceArgs(pack, request.guidance, request.negativePrompt ?? '');
      const startImage = photo && {
        image: fitPhoto(photo.bitmap, pack.image),
        strength: photo.strength,
      };
      const outlineMask = request.outline?.lines(pack.image) ?? null;
      const outline = outlineMask && { mask: outlineMask, strength: request.outline!.strength };
      setState((s) => ({
        ...s,
        pack,
        packRequested: request.packId,
        status: 'running',
        preparingGpu: false,
        done: 0,
        total: steps,
      }));
      const output = await engine.call(
        'generate',
        {
          prompt: request.prompt,
          ...guidance,
          steps,
          seed: request.seed,
          ...(request.regions ? { regions: request.regions } : {}),
          ...(startImage ? { startImage } : {}),
          ...(request.repaint ? { repaint: request.repaint } : {}),
          ...(outline ? { outline } : {}),
        },
        {
          signal,
          onProgress: (p) =>
            setState((s) => ({
              ...s,
              done: p.step,
              total: p.steps,
              preview: p.preview ?? s.preview,
            })),
        },
      );
      const blob = await encodePng(output.image);
      const url = URL.createObjectURL(blob);
      urls.current.push(url);
      const elapsedMs = performance.now() - started;
      setState((s) => ({
        ...s,
        status: 'done',
        done: output.recipe.steps,
        total: output.recipe.steps,
        result: {
          output,
          blob,
          url,
          elapsedMs,
          ...(startImage ? { startImage } : {}),
          ...(request.repaint ? { repaint: request.repaint } : {}),
          ...(outline ? { outline } : {}),
        },
      }));
    } catch (error) {
      recoverFrom(error);
      if (isAbortError(error)) setState((s) => ({ ...s, status: 'cancelled', preview: null }));
      else
        setState((s) => ({
          ...s,
          status: 'error',
          preview: null,
          error: error instanceof Error ? error.message : String(error),
        }));
    } finally {
      photo?.bitmap.close();
      if (controller.current === abort) controller.current = null;
    }
  }, []);

  const cancel = useCallback(() => controller.current?.abort(), []);

  return { state, generate, cancel };
}
