/** Runs generations on the engine worker: load on demand, progress, preview, cancel. */

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { GenerateOutput, LoadedPackInfo, RgbaImage } from '../../engine/api';
import { isAbortError } from '../../shared/errors';
import { getEngine, loadBackendPreference } from '../app/engine';
import { guidanceArgs, stepsFor } from './pack-settings';
import { rgbaToPngBlob } from './rgba';
import type { RegionLayoutJson } from '../../engine/regions/layout'; // regions (issue 6)

export interface GenerationResult {
  url: string;
  blob: Blob;
  prompt: string;
  seed: number;
  steps: number;
  /** What was passed to generate: absent where the pack has no guidance (or no negative prompt). */
  guidance?: number;
  negativePrompt?: string;
  output: GenerateOutput;
  /** Click to pixels, measured on the page. */
  elapsedMs: number;
  // regions (issue 6): the layout it was made with, to save and re-run.
  regions?: RegionLayoutJson;
}

export type GenerationStatus = 'idle' | 'loading' | 'running' | 'done' | 'cancelled' | 'error';

export interface GenerationState {
  status: GenerationStatus;
  /** Loading: bytes; running: steps. */
  done: number;
  total: number;
  preview: RgbaImage | null;
  result: GenerationResult | null;
  error: string | null;
  pack: LoadedPackInfo | null;
  /** The packId `pack` was loaded for (undefined: the built-in demo pack). */
  packRequested: string | undefined;
}

export interface GenerationRequest {
  prompt: string;
  /** A stored pack's id; undefined: the built-in demo pack. */
  packId: string | undefined;
  steps: number;
  /** null: the pack's default. Sent only where the loaded pack uses guidance. */
  guidance: number | null;
  /** Sent only where the loaded pack uses classifier-free guidance. */
  negativePrompt: string;
  seed: number;
  // regions (issue 6): the region layout (JSON form), saved with the result.
  regions?: RegionLayoutJson;
}

const INITIAL: GenerationState = {
  status: 'idle',
  done: 0,
  total: 0,
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
    const engine = getEngine();
    setState((s) => ({ ...s, status: 'loading', done: 0, total: 0, preview: null, error: null }));
    try {
      const pack = await engine.call(
        'loadPack',
        { packId: request.packId, preference: loadBackendPreference() },
        { signal, onProgress: (p) => setState((s) => ({ ...s, done: p.loaded, total: p.total })) },
      );
      // The loaded pack has the last word on range and guidance kind (the fields went by its manifest).
      const steps = stepsFor(request.steps, pack);
      const guidance = guidanceArgs(pack, request.guidance, request.negativePrompt);
      setState((s) => ({
        ...s,
        pack,
        packRequested: request.packId,
        status: 'running',
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
          regions: request.regions,
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
      const blob = await rgbaToPngBlob(output.image);
      const url = URL.createObjectURL(blob);
      urls.current.push(url);
      const elapsedMs = performance.now() - started;
      setState((s) => ({
        ...s,
        status: 'done',
        done: output.steps,
        total: output.steps,
        result: {
          url,
          blob,
          prompt: request.prompt,
          seed: output.seed,
          steps: output.steps,
          ...guidance,
          output,
          elapsedMs,
          regions: request.regions, // regions (issue 6)
        },
      }));
    } catch (error) {
      if (isAbortError(error)) setState((s) => ({ ...s, status: 'cancelled', preview: null }));
      else
        setState((s) => ({
          ...s,
          status: 'error',
          preview: null,
          error: error instanceof Error ? error.message : String(error),
        }));
    } finally {
      if (controller.current === abort) controller.current = null;
    }
  }, []);

  const cancel = useCallback(() => controller.current?.abort(), []);

  return { state, generate, cancel };
}
