/** Steps and seed: a new random seed per run unless "Fixed seed" is on. */
export interface SettingsValue {
  steps: number;
  seed: number;
  fixedSeed: boolean;
}

export function SettingsRow({
  value,
  stepRange,
  onChange,
}: {
  value: SettingsValue;
  stepRange: [number, number];
  onChange: (value: SettingsValue) => void;
}) {
  return (
    <div class="settings-row">
      <label class="field">
        <span>Steps</span>
        <input
          type="number"
          inputMode="numeric"
          min={stepRange[0]}
          max={stepRange[1]}
          step={1}
          value={value.steps}
          onInput={(event) => {
            const steps = Number(event.currentTarget.value);
            if (Number.isInteger(steps) && steps >= stepRange[0] && steps <= stepRange[1])
              onChange({ ...value, steps });
          }}
        />
      </label>
      <label class="field">
        <span>Seed</span>
        <input
          type="number"
          inputMode="numeric"
          min={0}
          max={4294967295}
          step={1}
          value={value.seed}
          onInput={(event) => {
            const seed = Number(event.currentTarget.value);
            // Typing a seed means "use this one".
            if (Number.isInteger(seed) && seed >= 0 && seed <= 4294967295)
              onChange({ ...value, seed, fixedSeed: true });
          }}
        />
      </label>
      <label class="check">
        <input
          type="checkbox"
          checked={value.fixedSeed}
          onChange={(event) => onChange({ ...value, fixedSeed: event.currentTarget.checked })}
        />
        Fixed seed
      </label>
    </div>
  );
}
