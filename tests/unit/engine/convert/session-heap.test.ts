/**
 * The engine runs int8 variants without undoing them: onnxruntime-web's
 * WebAssembly heap (the build Chromium runs, here in Node, one process per
 * session) grows by far less for an int8 UNet whose weights stay int8 than
 * for the float32 one. Small models are folded at load (faster, as
 * ort-session.ts says), models with external data or over 16 MB never are.
 * Measured on the demo pack's UNet, printed.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { foldsQuantizedWeights } from '../../../../src/engine/ort-session';
import { convertFile } from '../../shared/onnx/helpers';
import { DEMO } from './install';

const SCRIPT = join(__dirname, 'session-heap.mjs');
const work = mkdtempSync(join(tmpdir(), 'gesso-heap-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Heap {
  /** Heap bytes one more session takes (several kept side by side: the heap grows in steps). */
  perSession: number;
  ms: number;
}

/** Heap growth creating a session for `model` (with its external data), folded as the engine decides. */
function measure(model: string, data?: string): Heap & { fold: boolean } {
  const bytes = statSync(model).size;
  const external = data ? [{ path: 'model.onnx_data', data: new Uint8Array(1) }] : undefined;
  const fold = foldsQuantizedWeights(bytes, external);
  const args = [
    SCRIPT,
    model,
    '--sessions',
    '12',
    ...(data ? ['--data', data] : []),
    ...(fold ? ['--fold'] : []),
  ];
  const out = execFileSync(process.execPath, args, { encoding: 'utf8' });
  return { ...(JSON.parse(out.trim().split('\n').at(-1)!) as Heap), fold };
}

const MB = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

describe('wasm heap of a session: int8 against float32 (demo UNet)', () => {
  it(
    'int8 weights in external data stay int8: a fraction of the float32 heap',
    { timeout: 120_000 },
    async () => {
      // The copy the device would make of a model this size with the weights external.
      const converted = await convertFile(join(DEMO, 'unet/model.fp32.onnx'));
      const graph = join(work, 'model.onnx');
      const data = join(work, 'model.onnx_data');
      writeFileSync(graph, converted.graph);
      writeFileSync(data, converted.data);

      const fp32 = measure(join(DEMO, 'unet/model.fp32.onnx'));
      const shipped = measure(join(DEMO, 'unet/model.int8.onnx'));
      const external = measure(graph, data);
      const growth = (h: Heap) => h.perSession;
      const weights = {
        fp32: statSync(join(DEMO, 'unet/model.fp32.onnx')).size,
        int8: readFileSync(join(DEMO, 'unet/model.int8.onnx')).length,
      };
      console.log(
        [
          `wasm heap per session of the demo UNet (onnxruntime-web 1.30, 1 thread, 12 sessions kept):`,
          `  fp32 (${MB(weights.fp32)} file): +${MB(growth(fp32))}`,
          `  int8 as shipped (${MB(weights.int8)} file, folded at load: small): +${MB(growth(shipped))}`,
          `  int8 graph + external data (not folded, weights stay int8): +${MB(growth(external))}`,
        ].join('\n'),
      );
      expect(fp32.fold).toBe(true); // nothing to fold in it; the rule only looks at sizes
      expect(shipped.fold).toBe(true);
      expect(external.fold).toBe(false);
      // Int8 kept int8: well under half the float32 heap (measured: about 37%).
      expect(growth(external)).toBeLessThan(growth(fp32) / 2);
      // Folding makes float32 copies: more than unfolded (measured: more than float32 itself).
      expect(growth(shipped)).toBeGreaterThan(growth(external));
    },
  );

  it('never folds a model over 16 MB or one with external data', () => {
    expect(foldsQuantizedWeights(17e6)).toBe(false);
    expect(foldsQuantizedWeights(1e6, [{ path: 'm.onnx_data', data: new Uint8Array(1) }])).toBe(
      false,
    );
    expect(foldsQuantizedWeights(1e6)).toBe(true);
  });
});
