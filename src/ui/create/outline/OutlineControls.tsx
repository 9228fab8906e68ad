/**
 * Outline mode's hint and "Control strength" slider, shown while the mode is
 * on: the drawing tools then draw the lines the pack's ControlNet follows.
 */

import { useId } from 'preact/hooks';
import type { ControlConfig } from '../../../shared/pack-manifest';

/** The strength to show and send: the one set, else the pack's default, within the pack's range. */
export function controlStrength(set: number | null, control: ControlConfig): number {
  const [min, max] = control.strengthRange;
  return Math.min(max, Math.max(min, set ?? control.defaultStrength));
}

export function OutlineControls({
  control,
  strength,
  onStrength,
}: {
  control: ControlConfig;
  strength: number;
  onStrength: (strength: number) => void;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const [min, max] = control.strengthRange;
  return (
    <div class="outline-controls">
      <p id={hintId} class="outline-hint">
        Draw the shape&apos;s outline, then press Generate: the picture follows your lines.
      </p>
      <div class="outline-strength">
        <label for={id}>Control strength</label>
        <input
          id={id}
          type="range"
          min={min}
          max={max}
          step={0.05}
          value={strength}
          aria-describedby={hintId}
          onInput={(event) => onStrength(Number(event.currentTarget.value))}
        />
        <span class="outline-strength-value">{strength.toFixed(2)}</span>
      </div>
    </div>
  );
}
