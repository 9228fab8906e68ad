import { describe, expect, it } from 'vitest';
import { importStageText, importedWeightsText } from '../../../../src/ui/models/imported-weights';

describe("an imported pack's card says how its weights are kept", () => {
  it('says int8 and why fp16 would not run, without the verdict framing', () => {
    expect(
      importedWeightsText({
        weights: 'int8',
        int8Reason:
          "Won't run here: WebGPU is unavailable (no adapter); on the CPU it needs about 6.4 GB of memory (its 16-bit weights are widened to 32 bits there), more than WebAssembly can address (4 GiB). To run it: use a device whose GPU has 16-bit float shaders, or a variant with 8- or 32-bit weights.",
      }),
    ).toBe(
      'int8, because fp16 would not run on this device (WebGPU is unavailable (no adapter); on the CPU it needs about 6.4 GB of memory (its 16-bit weights are widened to 32 bits there), more than WebAssembly can address (4 GiB))',
    );
  });

  it('says fp16 plainly, and nothing for packs imported before it was recorded', () => {
    expect(importedWeightsText({ weights: 'fp16' })).toBe('fp16');
    expect(importedWeightsText({})).toBeNull();
  });

  it("leads the progress line of the import's int8 stage", () => {
    expect(importStageText('int8')).toBe('Making the int8 weights: ');
    expect(importStageText(undefined)).toBe('');
  });
});
