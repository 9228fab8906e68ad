/**
 * Steps and seed: a new random seed per run unless "Fixed seed" is on. Each
 * field shows the value that will run, or, while what is typed is not one, a
 * sentence with the valid range (tied to the field by aria-describedby).
 */

import { inputText, SEED_RANGE, type FieldDrafts, type RunSettings } from './number-fields';

const STEPS_PROBLEM = 'steps-problem';
const SEED_PROBLEM = 'seed-problem';

/** The ids of the sentences now shown for invalid fields (for Generate's description). */
export function problemIds(settings: RunSettings): string | undefined {
  const ids = [
    settings.steps.error ? STEPS_PROBLEM : null,
    settings.fixedSeed && settings.seed.error ? SEED_PROBLEM : null,
  ].filter(Boolean);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

export function SettingsRow({
  settings,
  drafts,
  stepRange,
  onText,
  onFixedSeed,
}: {
  settings: RunSettings;
  /** Typed text that is not a value: the field keeps it as typed. */
  drafts: FieldDrafts;
  stepRange: [number, number];
  onText: (field: keyof FieldDrafts, text: string) => void;
  onFixedSeed: (fixedSeed: boolean) => void;
}) {
  const stepsError = settings.steps.error;
  const seedError = settings.fixedSeed ? settings.seed.error : null;
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
          // While a draft is typed the input keeps its own text (a number input cannot be given "1e").
          value={drafts.steps === null ? String(settings.steps.value) : undefined}
          aria-invalid={stepsError ? true : undefined}
          aria-describedby={stepsError ? STEPS_PROBLEM : undefined}
          onInput={(event) => onText('steps', inputText(event.currentTarget))}
        />
      </label>
      <label class="field">
        <span>Seed</span>
        <input
          type="number"
          inputMode="numeric"
          min={SEED_RANGE[0]}
          max={SEED_RANGE[1]}
          step={1}
          value={drafts.seed === null ? String(settings.seed.value) : undefined}
          aria-invalid={seedError ? true : undefined}
          aria-describedby={seedError ? SEED_PROBLEM : undefined}
          onInput={(event) => onText('seed', inputText(event.currentTarget))}
        />
      </label>
      <label class="check">
        <input
          type="checkbox"
          checked={settings.fixedSeed}
          onChange={(event) => onFixedSeed(event.currentTarget.checked)}
        />
        Fixed seed
      </label>
      {stepsError && (
        <p id={STEPS_PROBLEM} class="field-problem" role="alert">
          {stepsError}
        </p>
      )}
      {seedError && (
        <p id={SEED_PROBLEM} class="field-problem" role="alert">
          {seedError}
        </p>
      )}
    </div>
  );
}
