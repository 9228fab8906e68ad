/**
 * The sampling step as a tiny ONNX graph, so it runs where the latents are.
 * On WebGPU the UNet's noise prediction stays in a GPU buffer; this graph
 * combines it with the latents (and, for classifier-free guidance, the
 * unconditional prediction) and writes the next step's UNet input and the
 * decoders' inputs, all on the GPU. Nothing is read back to the CPU per step.
 *
 * Every rule Gesso samples with is linear in the latents, the prediction and
 * fresh noise (Scheduler.linear), so one graph serves them all: the step's
 * coefficients come in as one small float vector, written each step.
 * Noise is drawn on the CPU from the seeded generator, exactly when the CPU
 * loop draws it, so a seed makes the same image on either path.
 */

import { AttributeType, DataType, type NodeProto } from '../../shared/onnx/schema';
import { weightlessModel } from '../../shared/onnx/weightless-model';
import type { StepForm } from '../schedulers';
import type { DType } from '../tensors';

/** The step graph's input and output names. */
export const STEP = {
  latents: 'latents',
  eps: 'eps',
  epsUncond: 'eps_uncond',
  noise: 'noise',
  coefficients: 'coefficients',
  next: 'next_latents',
  nextInput: 'next_unet_input',
  finalInput: 'decoder_input',
  previewInput: 'preview_input',
} as const;

/** The order of STEP.coefficients' entries. */
const COEFFICIENTS = [
  'nextX',
  'nextEps',
  'nextNoise',
  'denoisedX',
  'denoisedEps',
  'nextInputScale',
  'finalScale',
  'previewScale',
  'guidance',
] as const;

export interface StepGraphTypes {
  /** The UNet's noise-prediction output, read here. */
  eps: DType;
  /** The UNet's `sample` input, written here. */
  unetInput: DType;
  /** The final and preview decoders' latent inputs. */
  finalInput: DType;
  previewInput: DType;
}

export interface StepScales {
  /** The UNet sees next * this at the next step (Scheduler.modelInputScale). */
  nextInputScale: number;
  finalScale: number;
  previewScale: number;
  /** Classifier-free guidance weight; unused by the unguided graph. */
  guidance: number;
}

/** One step's coefficients as the graph's `coefficients` input. */
export function stepCoefficients(form: StepForm, scales: StepScales): Float32Array {
  const values: Record<(typeof COEFFICIENTS)[number], number> = { ...form, ...scales };
  return Float32Array.from(COEFFICIENTS, (name) => values[name]);
}

const ONNX_TYPE: Record<string, number> = { float32: DataType.FLOAT, float16: DataType.FLOAT16 };

function onnxType(type: DType): number {
  const code = ONNX_TYPE[type];
  if (code === undefined)
    throw new Error(`The step graph handles float32 and float16, not ${type}.`);
  return code;
}

function node(
  opType: string,
  input: string[],
  output: string[],
  attribute: NodeProto['attribute'] = [],
): NodeProto {
  return { opType, input, output, attribute, other: [] };
}

function intAttribute(name: string, value: number): NodeProto['attribute'][number] {
  return { name, type: AttributeType.INT, i: BigInt(value), floats: [], ints: [], other: [] };
}

/**
 * The step graph's ONNX bytes. `guided`: the graph also takes the
 * unconditional prediction and applies uncond + g (cond - uncond) first.
 */
export async function stepGraph(types: StepGraphTypes, guided: boolean): Promise<Uint8Array> {
  const nodes: NodeProto[] = [
    node(
      'Split',
      [STEP.coefficients],
      COEFFICIENTS.map((name) => `c_${name}`),
      [intAttribute('axis', 0)],
    ),
  ];
  const toFloat = (name: string, type: DType): string => {
    if (type === 'float32') return name;
    nodes.push(node('Cast', [name], [`${name}_f32`], [intAttribute('to', DataType.FLOAT)]));
    return `${name}_f32`;
  };
  const fromFloat = (name: string, output: string, type: DType): void => {
    if (type === 'float32') nodes.push(node('Identity', [name], [output]));
    else nodes.push(node('Cast', [name], [output], [intAttribute('to', onnxType(type))]));
  };
  let eps = toFloat(STEP.eps, types.eps);
  if (guided) {
    const uncond = toFloat(STEP.epsUncond, types.eps);
    nodes.push(
      node('Sub', [eps, uncond], ['eps_delta']),
      node('Mul', ['eps_delta', 'c_guidance'], ['eps_delta_scaled']),
      node('Add', [uncond, 'eps_delta_scaled'], ['eps_guided']),
    );
    eps = 'eps_guided';
  }
  nodes.push(
    node('Mul', [STEP.latents, 'c_nextX'], ['next_x']),
    node('Mul', [eps, 'c_nextEps'], ['next_eps']),
    node('Mul', [STEP.noise, 'c_nextNoise'], ['next_noise']),
    node('Add', ['next_x', 'next_eps'], ['next_partial']),
    node('Add', ['next_partial', 'next_noise'], [STEP.next]),
    node('Mul', [STEP.latents, 'c_denoisedX'], ['denoised_x']),
    node('Mul', [eps, 'c_denoisedEps'], ['denoised_eps']),
    node('Add', ['denoised_x', 'denoised_eps'], ['denoised']),
    node('Mul', [STEP.next, 'c_nextInputScale'], ['next_input_f32']),
    node('Mul', ['denoised', 'c_finalScale'], ['final_f32']),
    node('Mul', ['denoised', 'c_previewScale'], ['preview_f32']),
  );
  fromFloat('next_input_f32', STEP.nextInput, types.unetInput);
  fromFloat('final_f32', STEP.finalInput, types.finalInput);
  fromFloat('preview_f32', STEP.previewInput, types.previewInput);

  const inputs: [string, number][] = [
    [STEP.latents, DataType.FLOAT],
    [STEP.eps, onnxType(types.eps)],
    ...(guided ? [[STEP.epsUncond, onnxType(types.eps)] as [string, number]] : []),
    [STEP.noise, DataType.FLOAT],
    [STEP.coefficients, DataType.FLOAT],
  ];
  const outputs: [string, number][] = [
    [STEP.next, DataType.FLOAT],
    [STEP.nextInput, onnxType(types.unetInput)],
    [STEP.finalInput, onnxType(types.finalInput)],
    [STEP.previewInput, onnxType(types.previewInput)],
  ];
  return weightlessModel('step', nodes, inputs, outputs);
}

/**
 * A graph that passes one tensor through: run with its output on the CPU,
 * it is how a GPU tensor is read back where onnxruntime-node cannot
 * download one itself (its getData() aborts the process), and the same in
 * the browser, so both count and do reads the same way.
 */
export function readBackGraph(type: DType): Promise<Uint8Array> {
  const code = onnxType(type);
  return weightlessModel(
    'read back',
    [node('Identity', ['value'], ['copy'])],
    [['value', code]],
    [['copy', code]],
  );
}
