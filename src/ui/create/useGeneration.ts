/**
 * Runs generations on the engine worker: load on demand, progress, preview,
 * cancel. The state lives outside the Create screen, so a run goes on (and
 * its result stays shown) while the person looks at another screen.
 */

import { useEffect, useState } from 'preact/hooks';
import type { GenerateOutput, LoadedPackInfo, RgbaImage } from '../../engine';
import type { RecipeRequest } from '../../shared/recipe';
import { isAbortError } from '../../shared/errors';
import { engineFor, loadBackendPreference, markLoaded, recoverFrom } from '../app/engine';
import { guidanceArgs, stepsFor } from './pack-controls';
import { encodePng } from '../../shared/rgba';
import { fitPhoto } from './start-image/photo';
import { patchCreate } from './create-store';

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
  /** A result shown again after a reload: its gallery item (it is kept already). */
  keptId?: string;
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

let state: GenerationState = INITIAL;
const listeners = new Set<() => void>();
let controller: AbortController | null = null;
/** The shown result's URL: revoked when another result takes its place. */
let shownUrl: string | null = null;

function setState(update: (s: GenerationState) => GenerationState): void {
  const next = update(state);
  if (next.result?.url !== shownUrl) {
    if (shownUrl) URL.revokeObjectURL(shownUrl);
    shownUrl = next.result?.url ?? null;
  }
  state = next;
  listeners.forEach((l) => l());
}

export function getGeneration(): GenerationState {
  return state;
}

/** Shows a kept result again (after a reload), unless something newer is shown or running. */
export function showResult(result: GenerationResult): void {
  if (state.result || state.status === 'loading' || state.status === 'running') {
    URL.revokeObjectURL(result.url);
    return;
  }
  setState((s) => ({ ...s, status: 'done', result }));
}

async function generate(request: GenerationRequest): Promise<void> {
  controller?.abort();
  const abort = new AbortController();
  controller = abort;
  const { signal } = abort;
  const started = performance.now();
  const engine = engineFor(request.packId);
  // A reload before the end finds this and says the run was lost.
  patchCreate({ running: true });
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
      // The run itself is the warm-up: the engine skips (or stops) its throwaway image.
      { packId: request.packId, preference: loadBackendPreference(), noWarmUp: true },
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
    // The decoder chosen, where this pack has two; omitted: the engine's default.
    const decoder = pack.decoders.fast && request.decoder ? { decoder: request.decoder } : {};
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
        ...decoder,
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
    performance.measure('gesso: engine calls', { start: started });
    const encoding = performance.now();
    const blob = await encodePng(output.image);
    performance.measure('gesso: PNG', { start: encoding });
    const url = URL.createObjectURL(blob);
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
    if (controller === abort) {
      controller = null;
      patchCreate({ running: false });
    }
  }
}

/** A press of Cancel this soon after Generate is the second tap of a double tap: ignored. */
export const DOUBLE_TAP_MS = 400;
let generatePressedAt = -Infinity;

function start(request: GenerationRequest): Promise<void> {
  generatePressedAt = performance.now();
  return generate(request);
}

function cancel(): void {
  if (performance.now() - generatePressedAt < DOUBLE_TAP_MS) return;
  controller?.abort();
}

export function useGeneration() {
  const [current, setCurrent] = useState(state);
  useEffect(() => {
    setCurrent(state);
    const listener = () => setCurrent(state);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return { state: current, generate: start, cancel };
}
