/** The model picker and, where the model has one, its guidance control. */

import type { ModelOption } from './model-choice';
import { parseGuidance, type PackControls } from './pack-controls';

/** The model to use and, where that model has one, its guidance scale. */
export function PackRow({
  options,
  choice,
  onChoose,
  pack,
  guidance,
  onGuidance,
}: {
  options: ModelOption[];
  choice: string;
  onChoose: (choice: string) => void;
  pack: PackControls;
  guidance: number;
  onGuidance: (guidance: number) => void;
}) {
  const range = pack.ranges.guidance;
  return (
    <div class="pack-row">
      {/* Labelled by id, not by wrapping: a wrapping label's name would take in the option text. */}
      <div class="field">
        <label for="model">Model</label>
        <select id="model" value={choice} onChange={(event) => onChoose(event.currentTarget.value)}>
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </div>
      {pack.guidance !== 'none' && (
        <div class="field">
          <label for="guidance">Guidance</label>
          <input
            id="guidance"
            type="number"
            inputMode="decimal"
            min={range[0]}
            max={range[1]}
            step={0.5}
            value={guidance}
            onInput={(event) => {
              // Mid-typing ("1" on the way to "12") only counts when already in range.
              const text = event.currentTarget.value;
              const typed = parseGuidance(text, range);
              if (typed !== null && typed === Number(text)) onGuidance(typed);
            }}
            onChange={(event) => {
              // Done typing: out of range is clamped, and not a number puts the last value back.
              const input = event.currentTarget;
              const value = parseGuidance(input.value, range) ?? guidance;
              input.value = String(value);
              onGuidance(value);
            }}
          />
        </div>
      )}
    </div>
  );
}
