/**
 * The actions on the result, in one row under the picture: "Save" (the PNG
 * with its recipe in text chunks, as the gallery keeps it), "Share" (where the
 * browser can share files), "Explain" and "Use as start image".
 */

import { useState } from 'preact/hooks';
import type { StoredExplanation } from '../../store/gallery';
import { ExplainButton } from '../explain/ExplainButton';
import { canShareFile, downloadBlob } from '../gallery/files';
import type { GenerationResult } from './useGeneration';

export function ResultActions({
  result,
  file,
  packId,
  keptId,
  canStartFrom,
  onExplained,
  onUseAsStart,
}: {
  result: GenerationResult;
  /** The PNG for Save and Share, once made. */
  file: File | null;
  packId: string | undefined;
  keptId: string | null;
  /** The pack can start from a picture (it has an image encoder). */
  canStartFrom: boolean;
  onExplained: (explanation: StoredExplanation) => void;
  onUseAsStart: (file: File) => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const shareable = file !== null && canShareFile(file);
  const prompt = result.output.recipe.prompt;

  async function share(shared: File) {
    setError(null);
    try {
      await navigator.share({ files: [shared], title: 'Made with Gesso', text: prompt });
    } catch (cause) {
      if ((cause as { name?: unknown } | null)?.name !== 'AbortError')
        setError(`Sharing failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }

  return (
    <div class="result-actions" role="group" aria-label="This image">
      <button type="button" disabled={!file} onClick={() => file && downloadBlob(file, file.name)}>
        Save
      </button>
      {shareable && (
        <button type="button" onClick={() => void share(file)}>
          Share
        </button>
      )}
      {/* Explain records attention from the plain UNet; a result that followed an outline ran another one. */}
      {!result.outline && (
        <ExplainButton
          key={result.url}
          output={result.output}
          startImage={result.startImage ?? null}
          repaint={result.repaint ?? null}
          outline={result.outline ?? null}
          packId={packId}
          keptId={keptId}
          onExplained={onExplained}
        />
      )}
      {canStartFrom && (
        <button type="button" disabled={!file} onClick={() => file && onUseAsStart(file)}>
          Use as start image
        </button>
      )}
      {error && <p role="alert">{error}</p>}
    </div>
  );
}
