/**
 * Every result is kept in the gallery with its recipe (the same PNG is what
 * Save and Share give), and the result on the canvas is shown again after a
 * reload, from the gallery.
 */

import { useEffect, useState } from 'preact/hooks';
import { getImage, getItem, recipePng, saveGeneration } from '../../store/gallery';
import { pngFileName } from '../gallery/files';
import { getCreate, patchCreate } from './create-store';
import { runInfoOf } from './run-info';
import { getGeneration, showResult, type GenerationResult } from './useGeneration';
import type { Backend } from '../../shared/pack-manifest';
import { emptyTimings } from '../../shared/recipe';

export interface KeptResult {
  /** The PNG for Save and Share, once made. */
  file: File | null;
  /** The gallery item, once kept. */
  keptId: string | null;
  /** Why it could not be kept, if it could not. */
  keepError: string | null;
}

/** The PNG's pixels, for a result shown again (Repaint paints over them). */
async function pixelsOf(
  blob: Blob,
): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  return { width: canvas.width, height: canvas.height, data };
}

/** After a reload: the result that was on the canvas, from the gallery (nothing when it is gone). */
export async function restoreShownResult(): Promise<void> {
  const id = getCreate().resultId;
  // Shown already (a visit to another screen, not a reload), or nothing to show.
  if (!id || getGeneration().result) return;
  const [item, blob] = await Promise.all([getItem(id), getImage(id)]);
  if (!item || !blob) return;
  const image = await pixelsOf(blob);
  const backend: Backend = item.run.backend === 'webgpu' ? 'webgpu' : 'wasm';
  const result: GenerationResult = {
    output: {
      image,
      recipe: item.recipe,
      backend,
      timings: emptyTimings(),
      textStatesOnGpu: false,
      tiledDecode: false,
      gpuReadsPerStep: null,
    },
    blob,
    url: URL.createObjectURL(blob),
    elapsedMs: 0,
    keptId: id,
  };
  showResult(result);
}

interface Keeping {
  /** The PNG with its recipe (Save and Share work as soon as it is made). */
  file: Promise<File>;
  /** The gallery item. */
  keptId: Promise<string>;
}

/** Each result is kept once, however often the screen shows it (a visit to another screen remounts it). */
const keeping = new WeakMap<GenerationResult, Keeping>();

function keep(result: GenerationResult): Keeping {
  const known = keeping.get(result);
  if (known) return known;
  const { recipe } = result.output;
  let kept: Keeping;
  if (result.keptId) {
    const file = new File([result.blob], pngFileName(recipe), { type: 'image/png' });
    kept = { file: Promise.resolve(file), keptId: Promise.resolve(result.keptId) };
  } else {
    const run = runInfoOf(result.output);
    const createdAt = Date.now();
    const png = recipePng(recipe, result.blob, run, createdAt);
    const file = png.then((bytes) => new File([bytes], pngFileName(recipe), { type: 'image/png' }));
    const keptId = png.then(async (bytes) => {
      const item = await saveGeneration(recipe, bytes, run, createdAt);
      patchCreate({ resultId: item.id });
      return item.id;
    });
    kept = { file, keptId };
  }
  keeping.set(result, kept);
  return kept;
}

export function useKeptResult(result: GenerationResult | null): KeptResult {
  const [kept, setKept] = useState<KeptResult>({ file: null, keptId: null, keepError: null });
  useEffect(() => {
    setKept((k) => ({ ...k, file: null, keptId: null }));
    if (!result) return;
    let live = true; // the Save/Share file is for this result only
    const pending = keep(result);
    const failed = (error: unknown) =>
      // Said even when a newer result came since: a failed keep is never silent.
      setKept((k) => ({
        ...k,
        keepError: error instanceof Error ? error.message : String(error),
      }));
    pending.file.then((file) => live && setKept((k) => ({ ...k, file })), failed);
    pending.keptId.then(
      (keptId) => live && setKept((k) => ({ ...k, keptId, keepError: null })),
      failed,
    );
    return () => {
      live = false;
    };
  }, [result]);
  return kept;
}
