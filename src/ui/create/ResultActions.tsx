/** Save and Share for the result on the Create screen: the PNG with its recipe in text chunks. */

import { useState } from 'preact/hooks';
import { canShareFile, downloadBlob } from '../gallery/files';

/**
 * "Save" downloads the result's PNG (its recipe in text chunks, as the
 * gallery keeps it); "Share" appears only where the browser can share files.
 */
export function ResultActions({ file, prompt }: { file: File; prompt: string }) {
  const [error, setError] = useState<string | null>(null);
  const shareable = canShareFile(file);

  async function share() {
    setError(null);
    try {
      await navigator.share({ files: [file], title: 'Made with Gesso', text: prompt });
    } catch (cause) {
      if ((cause as { name?: unknown } | null)?.name !== 'AbortError')
        setError(`Sharing failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }

  return (
    <div class="result-actions" role="group" aria-label="This image">
      <button type="button" onClick={() => downloadBlob(file, file.name)}>
        Save
      </button>
      {shareable && (
        <button type="button" onClick={() => void share()}>
          Share
        </button>
      )}
      {error && <p role="alert">{error}</p>}
    </div>
  );
}
