/** A banner naming what this browser limits (no WebGPU, no isolation, no storage), one sentence each. */

import { useEffect, useState } from 'preact/hooks';
import { describeLimitations } from '../../shared/capabilities';
import { getEngine } from './engine';

/**
 * Says in one sentence each what this browser limits, so nothing fails
 * silently: the first sentence on one line, all of them when opened.
 */
export function LimitationsBanner() {
  const [notes, setNotes] = useState<string[]>([]);
  useEffect(() => {
    let live = true;
    getEngine()
      .call('detect', undefined)
      .then((caps) => live && setNotes(describeLimitations(caps, 'serviceWorker' in navigator)))
      .catch(
        (error: unknown) =>
          live && setNotes([`The image engine could not start: ${String(error)}`]),
      );
    return () => {
      live = false;
    };
  }, []);
  if (notes.length === 0) return null;
  return (
    <aside class="limitations" aria-label="What this browser limits">
      <details>
        <summary>
          <span>{notes[0]}</span>
        </summary>
        {notes.map((note) => (
          <p key={note}>{note}</p>
        ))}
      </details>
    </aside>
  );
}
