/**
 * What every template must satisfy, whether built into the test cache or
 * committed beside the app: its name maps are total and 1:1 against its own
 * graphs (every weight, walked with Gesso's ONNX walker, has exactly one map
 * entry and every entry one weight; diffusers and ldm keys, with OpenCLIP's
 * q/k/v third, never shared; the data file is the entries back to back).
 */

import { expect } from 'vitest';
import { TEMPLATE_COMPONENTS, type Template } from '../../../../src/engine/import/template';
import { externalRef, walkModel } from '../../../../src/shared/onnx/walk';

export async function expectTotalAndOneToOne(template: Template): Promise<void> {
  const { family } = template;
  const diffusers = new Set<string>();
  const ldm = new Set<string>();
  for (const component of TEMPLATE_COMPONENTS) {
    const { graph, map } = template.components[component];
    const external = new Map<string, { offset: number; length: number | undefined }>();
    for await (const event of walkModel([graph]))
      if (event.kind === 'initializer') {
        const ref = externalRef(event.tensor);
        if (ref) {
          expect(ref.location).toBe('model.onnx_data');
          external.set(event.tensor.name!, { offset: ref.offset, length: ref.length });
        }
      }
    expect(external.size).toBe(map.entries.length);
    let at = 0;
    for (const entry of [...map.entries].sort((a, b) => a.offset - b.offset)) {
      expect(external.get(entry.onnx)).toEqual({ offset: entry.offset, length: entry.length });
      expect(entry.offset).toBe(at);
      at += entry.length;
      expect(entry.length).toBe(
        entry.dims.reduce((n, d) => n * d, 1) * (entry.dataType === 10 ? 2 : 4),
      );
      expect(entry.onnx).toBe(entry.module);
      expect(diffusers.has(entry.diffusers)).toBe(false);
      diffusers.add(entry.diffusers);
      const ldmKey = `${entry.ldm}#${entry.ldmThird ?? ''}`;
      expect(ldm.has(ldmKey)).toBe(false);
      ldm.add(ldmKey);
    }
    expect(at).toBe(map.dataBytes);
  }
  // the layout changes the issue names are all there
  const all = TEMPLATE_COMPONENTS.flatMap((c) => template.components[c].map.entries);
  expect(all.filter((e) => e.transpose).length).toBeGreaterThan(100);
  const vaeMid = all.filter((e) => e.ldmShape.length === e.shape.length + 2);
  expect(vaeMid.map((e) => e.ldm).sort()).toEqual(
    ['decoder', 'encoder'].flatMap((h) =>
      ['k', 'proj_out', 'q', 'v'].map((p) => `first_stage_model.${h}.mid.attn_1.${p}.weight`),
    ),
  );
  const projIn = all.find((e) => e.diffusers === 'unet.down_blocks.0.attentions.0.proj_in.weight')!;
  expect(projIn.shape.length).toBe(family === 'sd15' ? 4 : 2); // 1x1 conv in SD 1.5, linear in SD 2.x
  const thirds = all.filter((e) => e.ldmThird !== null);
  expect(thirds.length).toBe(family === 'sd21' ? 23 * 6 : 0); // q/k/v weights and biases of 23 layers
  expect(all.every((e) => e.dataType === 10)).toBe(true);
}
