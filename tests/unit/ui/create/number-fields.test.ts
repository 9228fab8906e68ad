import { describe, expect, it } from 'vitest';
import {
  checkGuidance,
  checkSeed,
  checkSteps,
  inputText,
  NO_DRAFTS,
  parseWhole,
  runSettings,
  typed,
  UNREADABLE,
} from '../../../../src/ui/create/number-fields';

const STEPS: [number, number] = [1, 8];
const RANGES = { steps: STEPS, guidance: [1, 8] as [number, number] };

describe('the Steps and Seed fields', () => {
  it('take plain whole numbers in range, spaces around allowed', () => {
    expect(parseWhole('4', STEPS)).toBe(4);
    expect(parseWhole(' 8 ', STEPS)).toBe(8);
    expect(parseWhole('007', STEPS)).toBe(7);
    expect(parseWhole('0', [0, 9])).toBe(0);
  });

  it('refuse what the issue ran as something else: 1e9, 0, -1, 2^53, empty', () => {
    for (const text of ['1e9', '0', '-1', '', ' ', '2.5', '1.0', '+3', '9', 'four', UNREADABLE])
      expect(checkSteps(text, STEPS)).toEqual({
        value: null,
        error: 'Steps must be a whole number from 1 to 8.',
      });
    for (const text of ['-1', '9007199254740992', '4294967296', '1e3', '0x10', '3.5', UNREADABLE])
      expect(checkSeed(text)).toEqual({
        value: null,
        error:
          'The seed must be a whole number from 0 to 4294967295, or turn off Fixed seed for a new random seed each time.',
      });
    expect(checkSeed('').error).toBe(
      'Enter a seed, a whole number from 0 to 4294967295, or turn off Fixed seed for a new random seed each time.',
    );
  });

  it('accept the ends of each range', () => {
    expect(checkSteps('1', STEPS)).toEqual({ value: 1, error: null });
    expect(checkSteps('8', STEPS)).toEqual({ value: 8, error: null });
    expect(checkSeed('0')).toEqual({ value: 0, error: null });
    expect(checkSeed('4294967295')).toEqual({ value: 4294967295, error: null });
    expect(checkSteps('1', [1, 1]).value).toBe(1);
    expect(checkSteps('2', [1, 1]).error).toBe('Steps must be 1 for this model.');
  });

  it('read a number input’s text, or stand in for text the browser cannot parse', () => {
    expect(inputText({ value: '12', validity: { badInput: false } })).toBe('12');
    expect(inputText({ value: '', validity: { badInput: false } })).toBe('');
    expect(inputText({ value: '', validity: { badInput: true } })).toBe(UNREADABLE);
  });

  it('keep a valid value and drop the draft; keep invalid text as typed', () => {
    expect(typed('steps', '3', NO_DRAFTS, RANGES)).toEqual({ drafts: NO_DRAFTS, value: 3 });
    expect(typed('steps', '1e9', NO_DRAFTS, RANGES)).toEqual({
      drafts: { ...NO_DRAFTS, steps: '1e9' },
      value: null,
    });
    expect(typed('seed', '', { ...NO_DRAFTS, steps: '0' }, RANGES)).toEqual({
      drafts: { ...NO_DRAFTS, steps: '0', seed: '' },
      value: null,
    });
    expect(typed('seed', '77', { ...NO_DRAFTS, steps: '0', seed: '-1' }, RANGES)).toEqual({
      drafts: { ...NO_DRAFTS, steps: '0' },
      value: 77,
    });
  });

  it('run only what the fields show, and block Generate with the sentence otherwise', () => {
    const shown = { steps: 4, seed: 1234, fixedSeed: true, guidance: 4 };
    expect(runSettings(NO_DRAFTS, shown, RANGES)).toEqual({
      steps: { value: 4, error: null },
      seed: { value: 1234, error: null },
      guidance: { value: 4, error: null },
      fixedSeed: true,
      blocked: null,
    });
    const badSteps = runSettings({ ...NO_DRAFTS, steps: '0' }, shown, RANGES);
    expect(badSteps.steps.value).toBeNull();
    expect(badSteps.blocked).toBe('Steps must be a whole number from 1 to 8.');
    const badSeed = runSettings({ ...NO_DRAFTS, seed: '-1' }, shown, RANGES);
    expect(badSeed.seed.value).toBeNull();
    expect(badSeed.blocked).toMatch(/^The seed must be/);
    // A seed that is not fixed does not run: a new random one does.
    expect(
      runSettings({ ...NO_DRAFTS, seed: '-1' }, { ...shown, fixedSeed: false }, RANGES).blocked,
    ).toBeNull();
  });

  it('read a draft against the range of the model now chosen', () => {
    const shown = { steps: 4, seed: 1, fixedSeed: false, guidance: null };
    // "10" was out of the manifest's range; the loaded model allows it: 10 is what shows and runs.
    expect(
      runSettings({ ...NO_DRAFTS, steps: '10' }, shown, { ...RANGES, steps: [1, 12] }).steps,
    ).toEqual({
      value: 10,
      error: null,
    });
    expect(runSettings({ ...NO_DRAFTS, steps: '10' }, shown, RANGES).steps.value).toBeNull();
  });

  it('keep Guidance decimals as typed: 1.5 and 7.5 are values, the point is never swallowed', () => {
    expect(checkGuidance('1.5', [1, 8])).toEqual({ value: 1.5, error: null });
    expect(checkGuidance('7.5', [1, 8])).toEqual({ value: 7.5, error: null });
    expect(checkGuidance('.5', [0, 8])).toEqual({ value: 0.5, error: null });
    for (const text of ['1e9', '57', '0.5', '-2', '', 'x', UNREADABLE])
      expect(checkGuidance(text, [1, 8])).toEqual({
        value: null,
        error: 'Guidance must be a number from 1 to 8, such as 1.5.',
      });
    expect(typed('guidance', '1.', NO_DRAFTS, RANGES)).toEqual({ drafts: NO_DRAFTS, value: 1 });
    const blocked = runSettings(
      { ...NO_DRAFTS, guidance: '9.5' },
      { steps: 4, seed: 1, fixedSeed: false, guidance: 4 },
      RANGES,
    );
    expect(blocked.blocked).toBe('Guidance must be a number from 1 to 8, such as 1.5.');
  });
});
