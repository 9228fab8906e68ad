/** Every pack fault the engine can meet gets a sentence that names the file or model and says what to do. */

import { describe, expect, it } from 'vitest';
import { GessoError } from '../../../src/shared/errors';
import { inputOr, outputOr, type ModelSession } from '../../../src/engine/session';
import { parseVocab } from '../../../src/engine/tokenizer/clip-tokenizer';

const session = (label?: string): ModelSession => ({
  ...(label ? { label } : {}),
  inputs: [],
  outputs: [],
  run: async () => ({}),
  release: async () => {},
});

describe('pack faults in a sentence', () => {
  it('names the model and the missing input or output', () => {
    const unet = session('image model (UNet)');
    expect(() => inputOr(unet, 'timestep', 1)).toThrow(GessoError);
    expect(() => inputOr(unet, 'timestep', 1)).toThrow(
      /^The image model \(UNet\) in this pack has no input "timestep".*choose another pack\.$/,
    );
    expect(() => outputOr(session(), 'sample')).toThrow(
      /^The model in this pack has no output "sample"/,
    );
  });

  it('names a tokenizer file that is not a vocabulary, JSON or not', () => {
    for (const text of ['{"a": 1,', '[1, 2]', '{"a": "one"}', '{}'])
      expect(() => parseVocab(text, 'tokenizer/vocab.json')).toThrow(
        /^The tokenizer file tokenizer\/vocab\.json is not a vocabulary.*download it again/,
      );
    expect(parseVocab('{"a</w>": 5}').get('a</w>')).toBe(5);
  });
});
