/**
 * Which word painted where: the prompt's words as buttons (choosing one
 * overlays its map on the picture, via `useAttentionView`'s overlay), every
 * word's map as an image, and the overlay's opacity.
 */

import { useEffect, useMemo, useState } from 'preact/hooks';
import './explain.css';
import type { StoredExplanation } from '../../store/gallery';

export interface AttentionView {
  explanation: StoredExplanation;
  urls: string[][];
  selected: [number, number] | null;
  select: (choice: [number, number] | null) => void;
  opacity: number;
  setOpacity: (opacity: number) => void;
  /** The chosen word's map, to lay over the picture; null when none is chosen. */
  overlay: { url: string; opacity: number } | null;
}

export function useAttentionView(explanation: StoredExplanation | null): AttentionView | null {
  const urls = useMemo(
    () => explanation?.prompts.map((p) => p.words.map((w) => URL.createObjectURL(w.png))) ?? [],
    [explanation],
  );
  useEffect(() => () => urls.flat().forEach((url) => URL.revokeObjectURL(url)), [urls]);
  const [selected, select] = useState<[number, number] | null>(null);
  const [opacity, setOpacity] = useState(0.7);
  useEffect(() => select(null), [explanation]);
  if (!explanation) return null;
  const url = selected ? urls[selected[0]]?.[selected[1]] : undefined;
  return {
    explanation,
    urls,
    selected,
    select,
    opacity,
    setOpacity,
    overlay: url ? { url, opacity } : null,
  };
}

/** "heart", or "heart (Region 1)" for a region's prompt, so every map's name is its own. */
function mapName(word: string, label: string, group: number): string {
  return group === 0 ? word : `${word} (${label})`;
}

export function AttentionMaps({ view }: { view: AttentionView }) {
  const { explanation, urls, selected, select, opacity, setOpacity } = view;
  return (
    <section class="attention-maps" aria-label="Which word painted where">
      <p class="attention-hint">
        Choose a word to see where it acted on the picture: brighter means more attention.
      </p>
      {explanation.prompts.map((prompt, g) => (
        <div key={g} role="group" aria-label={`Words of ${prompt.label}`} class="attention-group">
          {explanation.prompts.length > 1 && <h3>{prompt.label}</h3>}
          <div class="attention-words">
            {prompt.words.map((w, i) => {
              const pressed = selected?.[0] === g && selected[1] === i;
              return (
                <button
                  key={i}
                  type="button"
                  aria-pressed={pressed}
                  onClick={() => select(pressed ? null : [g, i])}
                >
                  {mapName(w.word, prompt.label, g)}
                </button>
              );
            })}
          </div>
          <div class="attention-thumbs">
            {prompt.words.map((w, i) => (
              <figure key={i}>
                <img
                  src={urls[g]?.[i]}
                  alt={`Attention map: ${mapName(w.word, prompt.label, g)}`}
                  width={explanation.width}
                  height={explanation.height}
                />
                <figcaption>{w.word}</figcaption>
              </figure>
            ))}
          </div>
        </div>
      ))}
      {explanation.prompts.length === 0 && <p>The prompt has no words to explain.</p>}
      <label class="attention-opacity">
        Map opacity
        <input
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={opacity}
          onInput={(event) => setOpacity(Number((event.target as HTMLInputElement).value))}
        />
      </label>
    </section>
  );
}
