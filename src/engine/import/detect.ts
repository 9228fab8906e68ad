/**
 * What a checkpoint is, from its header alone: the family (SD 1.5 or SD 2.x,
 * from the last dimension of a cross-attention to_k weight), the layout (one
 * ldm file or diffusers names), the weights' dtype and, for SD 2.x, the
 * prediction type. Models Gesso cannot make a pack of are refused with a
 * sentence.
 */

import { GessoError } from '../../shared/errors';
import type { SafetensorsDtype, SafetensorsHeader } from './safetensors';
import type { Family, Layout } from './template';

export interface Detected {
  family: Family;
  /** Reduced-width test checkpoints (every channel / 8) fill the reduced templates. */
  width: 'full' | 'reduced';
  layout: Layout;
  dtype: SafetensorsDtype;
  /** null: the file does not say (SD 2.x): ask. */
  prediction: 'epsilon' | 'v' | null;
}

function refuse(name: string, why: string): GessoError {
  return new GessoError('does-not-fit', `"${name}" ${why} Nothing was changed.`);
}

const CONTEXT: Record<number, { family: Family; width: 'full' | 'reduced' }> = {
  768: { family: 'sd15', width: 'full' },
  1024: { family: 'sd21', width: 'full' },
  96: { family: 'sd15', width: 'reduced' },
  128: { family: 'sd21', width: 'reduced' },
};

/** A LoRA file's keys, in any of the dialects Gesso reads. */
export function isLoraKey(key: string): boolean {
  return /(^lora_(unet|te\d?)_)|(\.lora_[AB]\.weight$)|(\.lora_(down|up)\.weight$)/.test(key);
}

export function detectCheckpoint(header: SafetensorsHeader): Detected {
  const { name, entries } = header;
  const keys = [...entries.keys()];
  if (keys.length > 0 && keys.every((k) => isLoraKey(k) || k.endsWith('.alpha')))
    throw refuse(
      name,
      'is a LoRA, not a model: import a model first, then add the LoRA on its card.',
    );
  if (keys.some((k) => k.startsWith('conditioner.embedders.') || k.includes('add_embedding.')))
    throw refuse(
      name,
      'is an SDXL model, which is too large for Gesso to run on a phone; Gesso imports SD 1.5 and SD 2.x models.',
    );
  const layout: Layout = keys.some((k) => k.startsWith('model.diffusion_model.'))
    ? 'ldm'
    : keys.some((k) => k.includes('mid_block.'))
      ? 'diffusers'
      : (() => {
          throw refuse(
            name,
            'has no Stable Diffusion UNet in it (no model.diffusion_model. or diffusers keys).',
          );
        })();
  const toK = keys.find((k) => /attn2\.to_k\.weight$/.test(k) && !k.startsWith('model_ema.'));
  if (!toK)
    throw refuse(
      name,
      'has no cross-attention weights, so it is not a Stable Diffusion UNet Gesso knows.',
    );
  const shape = entries.get(toK)!.shape;
  const context = shape[shape.length - 1]!;
  if (context === 2048 || context === 256)
    throw refuse(
      name,
      'is an SDXL model (2048-wide text conditioning), which Gesso does not import; Gesso imports SD 1.5 and SD 2.x models.',
    );
  const kind = CONTEXT[context];
  if (!kind)
    throw refuse(
      name,
      `conditions on text ${context} values wide, which is neither SD 1.5 (768) nor SD 2.x (1024).`,
    );
  const convIn = entries.get(
    layout === 'ldm' ? 'model.diffusion_model.input_blocks.0.0.weight' : 'unet.conv_in.weight',
  );
  if (convIn && convIn.shape[1] === 9)
    throw refuse(
      name,
      'is an inpainting model (its first layer takes 9 channels); Gesso imports ordinary SD 1.5 and SD 2.x models.',
    );
  const counts = new Map<SafetensorsDtype, number>();
  for (const e of entries.values())
    if (e.dtype === 'F16' || e.dtype === 'F32' || e.dtype === 'BF16')
      counts.set(e.dtype, (counts.get(e.dtype) ?? 0) + 1);
  const dtype = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (!dtype) throw refuse(name, 'holds no F16, F32 or BF16 weights.');
  return { ...kind, layout, dtype, prediction: predictionOf(header.metadata, kind.family) };
}

function predictionOf(meta: Record<string, string>, family: Family): 'epsilon' | 'v' | null {
  const said = (meta['prediction_type'] ?? meta['modelspec.prediction_type'] ?? '').toLowerCase();
  if (/^v/.test(said)) return 'v';
  if (/eps/.test(said)) return 'epsilon';
  return family === 'sd15' ? 'epsilon' : null;
}
