/** Runs generations on the engine worker: load on demand, progress, preview, cancel. */

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { GenerateOutput, LoadedPackInfo, RgbaImage } from '../../engine/api';
import { isAbortError } from '../../shared/errors';
import { getEngine, loadBackendPreference } from '../app/engine';
import { rgbaToPngBlob } from './rgba';
import type { RegionLayoutJson } from '../../engine/regions/layout'; // regions (issue 6)

export interface GenerationResult {
  url: string;
  blob: Blob;
  prompt: string;
  seed: number;
  steps: number;
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
}

export interface GenerationRequest {
  prompt: string;
  steps: number;
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
        { preference: loadBackendPreference() },
        { signal, onProgress: (p) => setState((s) => ({ ...s, done: p.loaded, total: p.total })) },
      );
      setState((s) => ({ ...s, pack, status: 'running', done: 0, total: request.steps }));
      const output = await engine.call(
        'generate',
        {
          prompt: request.prompt,
          steps: request.steps,
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
