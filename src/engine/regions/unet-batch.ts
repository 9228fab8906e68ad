/**
 * Several prompts' noise predictions in one UNet call, where the export's
 * batch dimension is dynamic: the latent input repeated K times, the K text
 * states stacked. Falls back to one call per prompt (and remembers to) when
 * the export's batch is fixed or the batched run fails.
 */

import { GessoError } from '../../shared/errors';
import { guidanceEmbedding } from '../schedulers';
import {
  dimOr,
  findInput,
  inputOr,
  isDeviceTensor,
  outputOr,
  type ModelSession,
  type Value,
} from '../session';
import { floatTensor, numberTensor, toFloat32, type DType } from '../tensors';
import { repeatBatch, splitBatch, stackBatch } from './combine';
import { hasDynamicBatch } from './regional';

const unbatchable = new WeakSet<ModelSession>();

function dtype(type: string): DType {
  if (type === 'float32' || type === 'float16' || type === 'int32' || type === 'int64') return type;
  throw new GessoError(
    'unsupported-operator',
    `The UNet takes ${type} data, which Gesso cannot feed.`,
  );
}

/** True when one call can take several prompts (dynamic batch, text states on the CPU). */
export function canBatch(unet: ModelSession, hidden: readonly Value[]): boolean {
  if (unbatchable.has(unet) || hidden.some(isDeviceTensor)) return false;
  const sample = inputOr(unet, 'sample', 0);
  const text = inputOr(unet, 'encoder_hidden_states', 2);
  return hasDynamicBatch(sample.shape) && hasDynamicBatch(text.shape);
}

export interface BatchGuidance {
  guidance: number;
  embedding?: { dim: number; scale: number };
}

/**
 * Runs the UNet once for all of `hidden` (one prompt's text states each, [1, L, D]).
 * Returns one prediction per prompt, or null when this export cannot batch
 * (the caller then runs the prompts one by one).
 */
export async function runUnetBatch(
  unet: ModelSession,
  modelInput: Float32Array,
  dims: readonly number[],
  timestep: number,
  hidden: readonly Value[],
  options: BatchGuidance,
): Promise<Float32Array[] | null> {
  if (!canBatch(unet, hidden)) return null;
  const k = hidden.length;
  const sample = inputOr(unet, 'sample', 0);
  const time = inputOr(unet, 'timestep', 1);
  const text = inputOr(unet, 'encoder_hidden_states', 2);
  const states = hidden.map((h) => toFloat32(h as Exclude<Value, { location: 'gpu-buffer' }>));
  const textDims = [k, ...(hidden[0]!.dims.slice(1) as number[])];
  const timeDims =
    time.shape.length === 0
      ? []
      : typeof time.shape[0] === 'number' && time.shape[0] === 1
        ? [1]
        : [k];
  const feeds: Record<string, Value> = {
    [sample.name]: floatTensor(
      dtype(sample.type),
      [k, ...dims.slice(1)],
      repeatBatch(modelInput, k),
    ),
    [time.name]: numberTensor(
      dtype(time.type),
      timeDims,
      new Array<number>(timeDims[0] ?? 1).fill(timestep),
    ),
    [text.name]: floatTensor(dtype(text.type), textDims, stackBatch(states)),
  };
  const cond = findInput(unet, 'timestep_cond');
  if (cond) {
    const dim = dimOr(cond, 1, options.embedding?.dim ?? 256);
    const embedding = guidanceEmbedding(options.guidance, dim, options.embedding?.scale ?? 1000);
    feeds[cond.name] = floatTensor(dtype(cond.type), [k, dim], repeatBatch(embedding, k));
  }
  try {
    const outputs = await unet.run(feeds);
    const out = outputs[outputOr(unet, 'out_sample').name]!;
    if (isDeviceTensor(out) || out.dims[0] !== k) throw new Error('unexpected batched output');
    return splitBatch(toFloat32(out), k);
  } catch {
    unbatchable.add(unet);
    return null;
  }
}
