/**
 * Reading a .safetensors header from a Blob (never the whole file) and
 * telling what the checkpoint is; every bad input gets a sentence. Files are
 * built here byte by byte, plus the generated reduced-width checkpoints.
 */

import { describe, expect, it } from 'vitest';
import { detectCheckpoint } from '../../../../src/engine/import/detect';
import { planImport } from '../../../../src/engine/import/plan';
import {
  CKPT_REFUSAL,
  floatsOf,
  readSafetensorsHeader,
} from '../../../../src/engine/import/safetensors';
import { blobOf, generated, loadTemplate } from './fixtures';

type Tensor = { dtype: string; shape: number[]; bytes?: number; offsets?: [number, number] };

/** A safetensors file: `tensors` in order, contiguous unless offsets are given. */
function file(
  tensors: Record<string, Tensor>,
  options: { meta?: object; cut?: number; length?: number } = {},
): Blob {
  const header: Record<string, unknown> = options.meta ? { __metadata__: options.meta } : {};
  let at = 0;
  const size = (t: Tensor) =>
    t.bytes ?? t.shape.reduce((n, d) => n * d, 1) * (t.dtype === 'F32' ? 4 : 2);
  for (const [key, t] of Object.entries(tensors)) {
    header[key] = { dtype: t.dtype, shape: t.shape, data_offsets: t.offsets ?? [at, at + size(t)] };
    at = t.offsets?.[1] ?? at + size(t);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, BigInt(options.length ?? json.length), true);
  const data = new Uint8Array(at);
  const whole = new Uint8Array([...head, ...json, ...data]);
  return new Blob([whole.subarray(0, options.cut ?? whole.length)]);
}

const unet = (context: number, convIn = 4): Record<string, Tensor> => ({
  'model.diffusion_model.input_blocks.0.0.weight': { dtype: 'F16', shape: [8, convIn, 3, 3] },
  'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight': {
    dtype: 'F16',
    shape: [8, context],
  },
  'model.diffusion_model.middle_block.0.in_layers.0.weight': { dtype: 'F16', shape: [8] },
});

async function refusal(blob: Blob, name = 'm.safetensors'): Promise<string> {
  try {
    detectCheckpoint(await readSafetensorsHeader(blob, name));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('not refused');
}

describe('a .safetensors header', () => {
  it('is read with Blob.slice: 8-byte length and JSON, never the data', async () => {
    const blob = file(unet(768), { meta: { format: 'pt' } });
    const slices: [number, number][] = [];
    const spy = {
      size: blob.size,
      slice: (a: number, b: number) => (slices.push([a, b]), blob.slice(a, b)),
    } as unknown as Blob;
    const header = await readSafetensorsHeader(spy, 'm.safetensors');
    expect(slices.length).toBe(2);
    expect(slices[0]).toEqual([0, 8]);
    expect(slices[1]![1]).toBe(header.dataStart);
    expect(header.entries.size).toBe(3);
    expect(header.metadata).toEqual({ format: 'pt' });
  });

  it('refuses every bad input with a sentence', async () => {
    expect(await refusal(new Blob([]))).toMatch(/is empty \(0 bytes\)/);
    expect(await refusal(new Blob([new Uint8Array(5)]))).toMatch(/too short/);
    expect(await refusal(file(unet(768), { length: 1_000_000 }))).toMatch(/past the end of the/);
    expect(await refusal(file(unet(768), { length: 200_000_000 }))).toMatch(/over the 100 MB/);
    const whole = file(unet(768));
    expect(await refusal(whole.slice(0, whole.size - 10))).toMatch(
      /is truncated: its tensors need/,
    );
    expect(
      await refusal(
        file({
          a: { dtype: 'F16', shape: [4], offsets: [0, 8] },
          b: { dtype: 'F16', shape: [4], offsets: [4, 12] },
        }),
      ),
    ).toMatch(/overlap/);
    expect(await refusal(file({ a: { dtype: 'F16', shape: [0], offsets: [8, 0] } }))).toMatch(
      /out of order/,
    );
    expect(
      await refusal(
        file({
          a: { dtype: 'F16', shape: [4], offsets: [16, 24] },
          b: { dtype: 'F16', shape: [4], offsets: [0, 8] },
        }),
      ),
    ).toMatch(/gap before tensor "a"/);
    expect(await refusal(new Blob([new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0]), 'not json']))).toMatch(
      /does not start with a readable .safetensors header/,
    );
  });

  it('refuses .ckpt files, by name and by their pickle bytes, with the exact sentence', async () => {
    expect(await refusal(file(unet(768)), 'model.ckpt')).toContain(CKPT_REFUSAL);
    expect(CKPT_REFUSAL).toBe(
      'Gesso reads .safetensors only; .ckpt files can run code on your device',
    );
    const zip = new Blob([new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0])]);
    expect(await refusal(zip)).toContain(CKPT_REFUSAL);
  });

  it('tells SD 1.5 from SD 2.x by the cross-attention to_k width; refuses SDXL and inpainting in a sentence', async () => {
    const sd15 = detectCheckpoint(await readSafetensorsHeader(file(unet(768)), 'a.safetensors'));
    expect(sd15).toMatchObject({
      family: 'sd15',
      width: 'full',
      layout: 'ldm',
      dtype: 'F16',
      prediction: 'epsilon',
    });
    const sd21 = detectCheckpoint(await readSafetensorsHeader(file(unet(1024)), 'a.safetensors'));
    expect(sd21).toMatchObject({ family: 'sd21', prediction: null });
    const v = detectCheckpoint(
      await readSafetensorsHeader(
        file(unet(1024), { meta: { prediction_type: 'v_prediction' } }),
        'a.safetensors',
      ),
    );
    expect(v.prediction).toBe('v');
    expect(await refusal(file(unet(2048)))).toMatch(/is an SDXL model/);
    expect(await refusal(file(unet(768, 9)))).toMatch(
      /is an inpainting model \(its first layer takes 9 channels\)/,
    );
    expect(
      await refusal(file({ 'lora_unet_x.lora_down.weight': { dtype: 'F16', shape: [4, 4] } })),
    ).toMatch(/is a LoRA, not a model/);
  });

  it('detects layout and dtype of generated checkpoints; counts extra keys; names the first five missing', async () => {
    const template = loadTemplate('sd15');
    for (const [layout, dtype] of [
      ['ldm', 'BF16'],
      ['diffusers', 'F32'],
    ]) {
      const path = generated(`sd15-${layout}-${dtype}-default.safetensors`, [
        'checkpoint',
        '--layout',
        layout!,
        '--dtype',
        dtype!,
      ]);
      const header = await readSafetensorsHeader(await blobOf(path), 'x.safetensors');
      const detected = detectCheckpoint(header);
      expect(detected).toMatchObject({ family: 'sd15', width: 'reduced', layout, dtype });
      expect(planImport(header, detected, template).ignored).toBe(0);
      // the same header with five weights gone and two extra keys
      const removed = [...header.entries.keys()].slice(10, 17);
      for (const k of removed) header.entries.delete(k);
      let message = '';
      try {
        planImport(header, detected, template);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(
        /lacks 7 of the weights an SD 1.5 model needs, so it was not imported \(first missing: /,
      );
      const named = /first missing: (.*)\)\./.exec(message)![1]!.split(', ');
      expect(named.length).toBe(5);
      for (const k of named) expect(removed).toContain(k);
    }
  });

  it('refuses NaN weights with a sentence', () => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint16(2, 0x7e00, true);
    expect(() => floatsOf(bytes, 'F16', 'The weight w')).toThrow(/The weight w holds NaN values/);
  });
});
