/**
 * "Explain" for the result on the Create screen: runs the same recipe again
 * in explain mode (the same image, plus a map per word), then hands the maps
 * up as PNGs and keeps them with the gallery item.
 */

import { useEffect, useRef, useState } from 'preact/hooks';
import type { GenerateOutput } from '../../engine';
import type { RgbaImage } from '../../shared/rgba';
import { isAbortError } from '../../shared/errors';
import { saveExplanation, type StoredExplanation } from '../../store/gallery';
import { engineFor, loadBackendPreference, markLoaded, recoverFrom } from '../app/engine';
import { toStoredExplanation } from './map-image';

export function ExplainButton({
  output,
  startImage,
  repaint,
  outline,
  packId,
  keptId,
  onExplained,
}: {
  output: GenerateOutput;
  /** The photo the result started from, if any: the same recipe needs it again. */
  startImage: { image: RgbaImage; strength: number } | null;
  /** The picture and mask the result repainted, if it did. */
  repaint: { image: RgbaImage; mask: Uint8Array; parent?: string | null } | null;
  /** The outline the result followed, at its size, if it did. */
  outline: { mask: Uint8Array; strength: number } | null;
  /** The stored pack the result came from (undefined: the demo pack). */
  packId: string | undefined;
  /** The gallery item of this result, once kept. */
  keptId: string | null;
  onExplained: (explanation: StoredExplanation) => void;
}) {
  const [progress, setProgress] = useState<{ step: number; steps: number } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [explained, setExplained] = useState<StoredExplanation | null>(null);
  const controller = useRef<AbortController | null>(null);
  useEffect(() => () => controller.current?.abort(), []);

  // Kept with the gallery item as soon as both exist.
  useEffect(() => {
    if (!explained || !keptId) return;
    saveExplanation(keptId, explained).catch((error: unknown) =>
      setMessage(
        `Not kept in the gallery: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
  }, [explained, keptId]);

  async function explain() {
    const abort = new AbortController();
    controller.current = abort;
    setMessage(null);
    setProgress({ step: 0, steps: output.recipe.steps });
    const { recipe } = output;
    try {
      const engine = engineFor(packId);
      const pack = await engine.call(
        'loadPack',
        { packId, preference: loadBackendPreference() },
        { signal: abort.signal },
      );
      markLoaded(packId, pack.packId);
      const result = await engine.call(
        'explain',
        {
          prompt: recipe.prompt,
          negativePrompt: recipe.negativePrompt,
          guidance: recipe.guidance,
          steps: recipe.steps,
          seed: recipe.seed,
          width: recipe.width,
          height: recipe.height,
          preview: false,
          ...(recipe.decoder ? { decoder: recipe.decoder } : {}),
          ...(recipe.regions ? { regions: recipe.regions } : {}),
          ...(startImage ? { startImage } : {}),
          ...(repaint ? { repaint } : {}),
          ...(outline ? { outline } : {}),
        },
        { signal: abort.signal, onProgress: (p) => setProgress({ step: p.step, steps: p.steps }) },
      );
      const stored = await toStoredExplanation(result.explanation);
      setExplained(stored);
      onExplained(stored);
    } catch (error) {
      recoverFrom(error);
      if (!isAbortError(error)) setMessage(error instanceof Error ? error.message : String(error));
    } finally {
      setProgress(null);
      if (controller.current === abort) controller.current = null;
    }
  }

  return (
    <div class="explain">
      {!explained && (
        <button type="button" disabled={progress !== null} onClick={() => void explain()}>
          Explain
        </button>
      )}
      {progress && (
        <p role="status">
          Explaining… step {progress.step} of {progress.steps}
        </p>
      )}
      {message && <p role="alert">{message}</p>}
    </div>
  );
}
