/**
 * Following a drawn outline with a ControlNet, in the layout of the public
 * SD 1.5 ControlNet exports: the ControlNet takes the UNet's own latents,
 * timestep and text states plus the condition image (and, where it has the
 * input, the conditioning scale), and its residual outputs go into the
 * UNet's extra inputs of the same names; the middle block's residual goes
 * to the UNet's one input with "mid" in its name. All names, dtypes and
 * shapes come from the two sessions' metadata.
 *
 * `controlledUnet` presents the pair as one UNet session, so guidance,
 * regions, repaint and start images run through it unchanged.
 */

import { GessoError } from '../../shared/errors';
import {
  findInput,
  inputOr,
  isDeviceTensor,
  type ModelSession,
  type Value,
  type ValueInfo,
} from '../session';
import { floatTensor, numberTensor, toFloat32, type CpuTensor } from '../tensors';
import { asDType } from './dtype';
import { repeatBatch } from './unet';

/** One residual: the ControlNet output that feeds a UNet input. */
export interface ResidualBinding {
  output: string;
  input: string;
}

const UNET_OWN_INPUTS = new Set(['sample', 'timestep', 'encoder_hidden_states', 'timestep_cond']);

function mismatch(detail: string): GessoError {
  return new GessoError(
    'invalid-manifest',
    `This pack's ControlNet does not fit its image model (${detail}), so it cannot follow an outline. Ask the pack's publisher for matching files, or generate without the outline.`,
  );
}

const isMid = (name: string) => /mid/i.test(name);

/**
 * Pairs every ControlNet output with a UNet residual input: same name first
 * (down_block_0 … down_block_11), then the one "mid" output with the one
 * "mid" input (mid_block_res_sample -> mid_block_additional_residual).
 */
export function bindResiduals(controlNet: ModelSession, unet: ModelSession): ResidualBinding[] {
  const extra = unet.inputs.filter((input) => !UNET_OWN_INPUTS.has(input.name));
  if (extra.length === 0) throw mismatch('the image model takes no residual inputs');
  const outputs = controlNet.outputs.map((output) => output.name);
  const bindings: ResidualBinding[] = [];
  const unbound = extra.filter((input) => {
    if (!outputs.includes(input.name)) return true;
    bindings.push({ output: input.name, input: input.name });
    return false;
  });
  const leftOutputs = outputs.filter((name) => !bindings.some((b) => b.output === name));
  const midInputs = unbound.filter((input) => isMid(input.name));
  const midOutputs = leftOutputs.filter(isMid);
  if (midInputs.length === 1 && midOutputs.length === 1)
    bindings.push({ output: midOutputs[0]!, input: midInputs[0]!.name });
  const missing = extra.find((input) => !bindings.some((b) => b.input === input.name));
  if (missing) throw mismatch(`nothing gives its input "${missing.name}"`);
  const spare = outputs.find((name) => !bindings.some((b) => b.output === name));
  if (spare) throw mismatch(`its output "${spare}" goes nowhere`);
  return bindings;
}

/** The drawn lines (0-255 per pixel, width x height) as a condition image [1, 3, H, W] in [0, 1]. */
export function outlineImage(mask: Uint8Array, width: number, height: number): Float32Array {
  const plane = width * height;
  if (mask.length !== plane)
    throw new GessoError('internal', `The outline is ${mask.length} pixels, the image ${plane}.`);
  const image = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    const v = mask[i]! / 255;
    image[i] = v;
    image[plane + i] = v;
    image[2 * plane + i] = v;
  }
  return image;
}

/** `value` as the dtype `info` wants (CPU tensors converted; a GPU tensor must already match). */
function asInput(value: Value, info: ValueInfo, what: string): Value {
  const type = asDType(info.type, what);
  if (value.type === type) return value;
  if (isDeviceTensor(value))
    throw mismatch(`${what} stays on the GPU as ${value.type}, wanted ${type}`);
  const cpu = value as CpuTensor;
  if (cpu.type === 'float32' || cpu.type === 'float16')
    return floatTensor(type, cpu.dims, toFloat32(cpu));
  return numberTensor(type, cpu.dims, Array.from(cpu.data as ArrayLike<number | bigint>, Number));
}

function scaledBy(value: Value, factor: number): Value {
  if (factor === 1) return value;
  if (isDeviceTensor(value))
    throw mismatch('its residuals stay on the GPU and it has no scale input');
  const values = toFloat32(value).map((v) => v * factor);
  return floatTensor(value.type, value.dims, values);
}

export interface ControlInput {
  /** The condition image [1, 3, H, W], values in [0, 1]. */
  image: Float32Array;
  dims: readonly number[];
  /** The conditioning scale: 0 ignores the outline, 1 is as trained. */
  strength: number;
}

/**
 * The ControlNet and the UNet as one UNet session. Releasing it releases
 * neither: the pipeline owns both.
 */
export function controlledUnet(
  controlNet: ModelSession,
  unet: ModelSession,
  control: ControlInput,
): ModelSession {
  const bindings = bindResiduals(controlNet, unet);
  const cond = inputOr(controlNet, 'controlnet_cond', 3);
  const scale = findInput(controlNet, 'conditioning_scale');
  const sampleName = inputOr(unet, 'sample', 0).name;
  return {
    label: unet.label ?? 'image model (UNet)',
    inputs: unet.inputs.filter((input) => !bindings.some((b) => b.input === input.name)),
    outputs: unet.outputs,
    async run(feeds) {
      const batch = feeds[sampleName]?.dims[0] ?? 1;
      const netFeeds: Record<string, Value> = {};
      for (const input of controlNet.inputs) {
        if (input.name === cond.name) {
          netFeeds[input.name] = floatTensor(
            asDType(input.type, 'outline image'),
            [batch, ...control.dims.slice(1)],
            repeatBatch(control.image, batch),
          );
        } else if (input.name === scale?.name) {
          netFeeds[input.name] = floatTensor(
            asDType(input.type, 'conditioning scale'),
            input.shape.length === 0 ? [] : [1],
            Float32Array.of(control.strength),
          );
        } else {
          const fed = feeds[input.name];
          if (!fed) throw mismatch(`it needs "${input.name}", which the image model does not take`);
          netFeeds[input.name] = asInput(fed, input, input.name);
        }
      }
      const residuals = await controlNet.run(netFeeds);
      const unetFeeds: Record<string, Value> = { ...feeds };
      for (const { output, input } of bindings) {
        const value = scale ? residuals[output]! : scaledBy(residuals[output]!, control.strength);
        unetFeeds[input] = asInput(value, findInput(unet, input)!, input);
      }
      return unet.run(unetFeeds);
    },
    release: async () => undefined,
  };
}
