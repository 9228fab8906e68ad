/**
 * The Steps, Seed and Guidance fields, read as the user types: a number in
 * range (whole for Steps and Seed; decimals allowed for Guidance) is the value
 * that runs; anything else (empty, "1e9", "2.5" steps, "-1", 2^53) is a
 * sentence saying the valid range, and nothing runs until it is fixed. The
 * field always keeps the text as typed. Pure.
 */

import { MAX_SEED } from '../../shared/random';

export const SEED_RANGE: [number, number] = [0, MAX_SEED];

/** A field's reading: the value that will run, or why there is none. */
export type FieldCheck = { value: number; error: null } | { value: null; error: string };

export type NumberFieldName = 'steps' | 'seed' | 'guidance';

/** What the fields hold that is not (yet) a value: the typed text; null where the field shows its value. */
export type FieldDrafts = Record<NumberFieldName, string | null>;

export const NO_DRAFTS: FieldDrafts = { steps: null, seed: null, guidance: null };

/** Stands for text a number input holds but cannot report (its value is "" then, e.g. "1e" or "-"). */
export const UNREADABLE = 'not a number';

/** The text of a number input as typed: its value, or UNREADABLE where the browser cannot parse it. */
export function inputText(input: { value: string; validity: { badInput: boolean } }): string {
  return input.validity.badInput ? UNREADABLE : input.value;
}

/** Digits only: no sign, no decimal point, no exponent ("1e9" is a number, but not one anyone types as a count). */
const WHOLE = /^[0-9]+$/;
/** Plain decimals: "1.5", "7", ".5", "2." (no sign, no exponent). */
const DECIMAL = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)$/;

/** A whole number in [min, max] written in plain digits (spaces around allowed); null otherwise. */
export function parseWhole(text: string, [min, max]: [number, number]): number | null {
  const trimmed = text.trim();
  if (!WHOLE.test(trimmed)) return null;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : null;
}

/** A decimal number in [min, max] written plainly ("1.5", "7"); null otherwise. */
export function parseDecimal(text: string, [min, max]: [number, number]): number | null {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) return null;
  const value = Number(trimmed);
  return Number.isFinite(value) && value >= min && value <= max ? value : null;
}

export function stepsError([min, max]: [number, number]): string {
  return min === max
    ? `Steps must be ${String(min)} for this model.`
    : `Steps must be a whole number from ${String(min)} to ${String(max)}.`;
}

export function guidanceError([min, max]: [number, number]): string {
  return min === max
    ? `Guidance must be ${String(min)} for this model.`
    : `Guidance must be a number from ${String(min)} to ${String(max)}, such as 1.5.`;
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

/** The Guidance field's text against the model's range (decimals allowed). */
export function checkGuidance(text: string, range: [number, number]): FieldCheck {
  const value = parseDecimal(text, range);
  return value === null ? { value: null, error: guidanceError(range) } : { value, error: null };
}

/** The Seed field's text: seeds are 32-bit unsigned (src/shared/random.ts). */
export function checkSeed(text: string): FieldCheck {
  const value = parseWhole(text, SEED_RANGE);
  return value === null ? { value: null, error: seedError(text) } : { value, error: null };
}

export interface FieldRanges {
  steps: [number, number];
  guidance: [number, number];
}

export function checkField(field: NumberFieldName, text: string, ranges: FieldRanges): FieldCheck {
  if (field === 'steps') return checkSteps(text, ranges.steps);
  if (field === 'guidance') return checkGuidance(text, ranges.guidance);
  return checkSeed(text);
}

export interface RunSettings {
  steps: FieldCheck;
  seed: FieldCheck;
  guidance: FieldCheck;
  fixedSeed: boolean;
  /** Why Generate cannot run now (a field's sentence), or null. */
  blocked: string | null;
}

/**
 * What a run would use. `shown`: the values the fields show when they hold no
 * draft (the chosen ones or the model's defaults, already in range); the seed
 * matters only when it is fixed (otherwise each run draws a new one), and
 * guidance only where the model has it.
 */
export function runSettings(
  drafts: FieldDrafts,
  shown: { steps: number; seed: number; fixedSeed: boolean; guidance: number | null },
  ranges: FieldRanges,
): RunSettings {
  const steps: FieldCheck =
    drafts.steps === null
      ? { value: shown.steps, error: null }
      : checkSteps(drafts.steps, ranges.steps);
  const seed: FieldCheck =
    drafts.seed === null ? { value: shown.seed, error: null } : checkSeed(drafts.seed);
  const guidance: FieldCheck =
    shown.guidance === null
      ? { value: 0, error: null }
      : drafts.guidance === null
        ? { value: shown.guidance, error: null }
        : checkGuidance(drafts.guidance, ranges.guidance);
  const blocked = steps.error ?? guidance.error ?? (shown.fixedSeed ? seed.error : null);
  return { steps, seed, guidance, fixedSeed: shown.fixedSeed, blocked };
}

/**
 * The drafts after the user typed `text` into a field: a valid value leaves
 * no draft (the field then shows the value), anything else stays as typed.
 * Returns the value to keep, if any.
 */
export function typed(
  field: NumberFieldName,
  text: string,
  drafts: FieldDrafts,
  ranges: FieldRanges,
): { drafts: FieldDrafts; value: number | null } {
  const check = checkField(field, text, ranges);
  return {
    drafts: { ...drafts, [field]: check.value === null ? text : null },
    value: check.value,
  };
}
