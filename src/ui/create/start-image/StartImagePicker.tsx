/**
 * "Start from a photo": a file input (camera or library on a phone), then a
 * preview, a Strength slider and Remove. Controlled: the parent holds the
 * choice; this component releases a choice's bitmap and preview URL when it
 * replaces or removes it. A refused file shows a sentence and leaves any
 * existing choice as it was.
 */

import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { toErrorData } from '../../../shared/errors';
import { DEFAULT_STRENGTH, readChoice, releaseChoice, type StartImageChoice } from './photo';
import './start-image.css';

/** The slider's steps are 0.05: show at most two decimals ("0.6", "0.35"). */
function strengthText(strength: number): string {
  return String(Math.round(strength * 100) / 100);
}

export function StartImagePicker({
  value,
  onChange,
  note,
  defaultStrength = DEFAULT_STRENGTH,
}: {
  value: StartImageChoice | null;
  onChange: (value: StartImageChoice | null) => void;
  /** A sentence under the picker (e.g. why this pack cannot start from a photo). */
  note?: string | null;
  /** Strength of the first photo chosen (the pack's default); a replaced photo keeps the strength set. */
  defaultStrength?: number;
}) {
  const [reading, setReading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // A decode finishes later: it must see the choice and callback of that moment, not of the click.
  const latest = useRef({ value, onChange });
  latest.current = { value, onChange };
  /** Counts picks: only the newest one's result is used (an older one is released). */
  const picks = useRef(0);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const strengthId = useId();
  const hintId = useId();

  async function choose(file: File): Promise<void> {
    const pick = ++picks.current;
    const current = () => pick === picks.current && mounted.current;
    setReading(true);
    setError(null);
    try {
      const choice = await readChoice(file, latest.current.value?.strength ?? defaultStrength);
      if (!current()) {
        releaseChoice(choice);
        return;
      }
      const previous = latest.current.value;
      latest.current.onChange(choice);
      if (previous) releaseChoice(previous);
    } catch (cause) {
      if (current()) setError(toErrorData(cause).message);
    } finally {
      if (current()) setReading(false);
    }
  }

  function remove(): void {
    if (!value) return;
    onChange(null);
    releaseChoice(value);
    setError(null);
  }

  return (
    <div class="start-image" role="group" aria-label="Start from a photo">
      <div class="start-image-row">
        <label class="start-image-pick">
          Start image
          <input
            type="file"
            accept="image/*"
            class="visually-hidden"
            onChange={(event) => {
              const file = event.currentTarget.files?.[0];
              // Cleared so that choosing the same file again still fires a change.
              event.currentTarget.value = '';
              if (file) void choose(file);
            }}
          />
        </label>
        <span class="start-image-name">
          {value ? value.name : 'Optional: start from a photo. It stays on this device.'}
        </span>
      </div>
      {reading && (
        <p role="status" class="start-image-status">
          Reading the photo…
        </p>
      )}
      {value && (
        <div class="start-image-chosen">
          <img class="start-image-preview" src={value.previewUrl} alt="Start image preview" />
          <div class="start-image-strength">
            <label for={strengthId}>Strength</label>
            <div class="start-image-slider">
              <input
                id={strengthId}
                type="range"
                min={0}
                max={1}
                step={0.05}
                value={value.strength}
                aria-describedby={hintId}
                onInput={(event) =>
                  onChange({ ...value, strength: Number(event.currentTarget.value) })
                }
              />
              <span class="start-image-value">{strengthText(value.strength)}</span>
            </div>
            <span id={hintId} class="start-image-hint">
              0 keeps the photo, 1 ignores it.
            </span>
          </div>
          <button type="button" onClick={remove}>
            Remove<span class="visually-hidden"> start image</span>
          </button>
        </div>
      )}
      {error && <p role="alert">{error}</p>}
      {note && <p class="start-image-note">{note}</p>}
    </div>
  );
}
