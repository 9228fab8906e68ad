/**
 * The Steps and Seed fields, read as the user types: a whole number in range
 * is the value that runs; anything else (empty, "1e9", "2.5", "-1", 2^53) is a
 * sentence saying the valid range, and nothing runs until it is fixed. Pure.
 */

import { MAX_SEED } from '../../shared/random';

export const SEED_RANGE: [number, number] = [0, MAX_SEED];

/** A field's reading: the value that will run, or why there is none. */
export type FieldCheck = { value: number; error: null } | { value: null; error: string };

/** What the fields hold that is not (yet) a value: the typed text; null where the field shows its value. */
export interface FieldDrafts {
  steps: string | null;
  seed: string | null;
}

export const NO_DRAFTS: FieldDrafts = { steps: null, seed: null };

/** Stands for text a number input holds but cannot report (its value is "" then, e.g. "1e" or "-"). */
export const UNREADABLE = 'not a number';

/** The text of a number input as typed: its value, or UNREADABLE where the browser cannot parse it. */
export function inputText(input: { value: string; validity: { badInput: boolean } }): string {
  return input.validity.badInput ? UNREADABLE : input.value;
}

/** Digits only: no sign, no decimal point, no exponent ("1e9" is a number, but not one anyone types as a count). */
const WHOLE = /^[0-9]+$/;

/** A whole number in [min, max] written in plain digits (spaces around allowed); null otherwise. */
export function parseWhole(text: string, [min, max]: [number, number]): number | null {
  const trimmed = text.trim();
  if (!WHOLE.test(trimmed)) return null;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : null;
}

export function stepsError([min, max]: [number, number]): string {
  return min === max
    ? `Steps must be ${String(min)} for this model.`
    : `Steps must be a whole number from ${String(min)} to ${String(max)}.`;
}

export function seedError(text: string): string {
  const range = `a whole number from ${String(SEED_RANGE[0])} to ${String(SEED_RANGE[1])}`;
  return text.trim() === ''
    ? `Enter a seed, ${range}, or turn off Fixed seed for a new random seed each time.`
    : `The seed must be ${range}, or turn off Fixed seed for a new random seed each time.`;
}

/** The Steps field's text against the model's range. */
export function checkSteps(text: string, range: [number, number]): FieldCheck {
  const value = parseWhole(text, range);
  return value === null ? { value: null, error: stepsError(range) } : { value, error: null };
}

/** The Seed field's text: seeds are 32-bit unsigned (src/shared/random.ts). */
export function checkSeed(text: string): FieldCheck {
  const value = parseWhole(text, SEED_RANGE);
  return value === null ? { value: null, error: seedError(text) } : { value, error: null };
}

export interface RunSettings {
  steps: FieldCheck;
  seed: FieldCheck;
  fixedSeed: boolean;
  /** Why Generate cannot run now (a field's sentence), or null. */
  blocked: string | null;
}

/**
 * What a run would use. `steps`: the value the field shows when it holds no
 * draft (the chosen count or the model's default, already in range); the seed
 * matters only when it is fixed (otherwise each run draws a new one).
 */
export function runSettings(
  drafts: FieldDrafts,
  shown: { steps: number; seed: number; fixedSeed: boolean },
  stepRange: [number, number],
): RunSettings {
  const steps: FieldCheck =
    drafts.steps === null
      ? { value: shown.steps, error: null }
      : checkSteps(drafts.steps, stepRange);
  const seed: FieldCheck =
    drafts.seed === null ? { value: shown.seed, error: null } : checkSeed(drafts.seed);
  const blocked = steps.error ?? (shown.fixedSeed ? seed.error : null);
  return { steps, seed, fixedSeed: shown.fixedSeed, blocked };
}

/**
 * The drafts after the user typed `text` into a field: a valid value leaves
 * no draft (the field then shows the value itself), anything else stays as
 * typed. Returns the value to keep, if any.
 */
export function typed(
  field: keyof FieldDrafts,
  text: string,
  drafts: FieldDrafts,
  stepRange: [number, number],
): { drafts: FieldDrafts; value: number | null } {
  const check = field === 'steps' ? checkSteps(text, stepRange) : checkSeed(text);
  return {
    drafts: { ...drafts, [field]: check.value === null ? text : null },
    value: check.value,
  };
}
