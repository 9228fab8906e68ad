/**
 * One number field for Steps, Seed and Guidance: it keeps the text as typed
 * (a decimal point, a leading digit, text that is not a number yet) and shows
 * the value only while the person is not typing in it. What is typed and is
 * not a value gets a sentence (an alert, tied by aria-describedby).
 */

import { useLayoutEffect, useRef } from 'preact/hooks';
import { inputText } from './number-fields';

export function NumberField({
  id,
  label,
  value,
  draft,
  error,
  range,
  step,
  decimal = false,
  onText,
}: {
  id: string;
  label: string;
  /** The value the field shows when it holds no draft. */
  value: number;
  /** Typed text that is not a value, or null. */
  draft: string | null;
  /** The sentence for the draft, or null. */
  error: string | null;
  range: [number, number];
  step: number;
  decimal?: boolean;
  onText: (text: string) => void;
}) {
  const input = useRef<HTMLInputElement>(null);
  // The value is written only while the field is not being typed in: the typed text is never replaced.
  useLayoutEffect(() => {
    const element = input.current;
    if (!element || draft !== null || document.activeElement === element) return;
    if (element.value !== String(value)) element.value = String(value);
  }, [value, draft]);
  const problemId = `${id}-problem`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        ref={input}
        id={id}
        type="number"
        inputMode={decimal ? 'decimal' : 'numeric'}
        min={range[0]}
        max={range[1]}
        step={step}
        defaultValue={draft ?? String(value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? problemId : undefined}
        onInput={(event) => onText(inputText(event.currentTarget))}
        onBlur={(event) => {
          // Done typing a value: show it as it will run ("1.50" reads "1.5").
          if (draft === null) event.currentTarget.value = String(value);
        }}
      />
      {error && (
        <p id={problemId} class="field-problem" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
