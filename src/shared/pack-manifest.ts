/** The pack manifest (`gesso-pack@1`): see docs/pack-manifest.md. */

export type PipelineKind = 'demo' | 'sd-turbo' | 'lcm';
export type Backend = 'webgpu' | 'wasm';
export type ComponentName =
  | 'textEncoder'
  | 'unet'
  | 'vaeDecoder'
  | 'vaeEncoder'
  | 'previewDecoder'
  /** A ControlNet (SD 1.5 export layout): its residuals steer the UNet to follow an outline. */
  | 'controlNet'
  /** The UNet export that takes the ControlNet's residuals; absent: `unet` takes them itself. */
  | 'controlUnet';

export interface SchedulerConfig {
  kind: 'lcm' | 'euler-ancestral-trailing';
  trainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: 'scaled_linear' | 'linear';
  originalSteps?: number;
  timestepScaling?: number;
  /** What the UNet predicts: the noise (default), or v (SD 2.x 768 models). */
  prediction?: 'epsilon' | 'v';
}

export interface TokenizerConfig {
  kind: 'clip-bpe';
  vocab: string;
  merges: string;
  maxLength: number;
  bosTokenId: number;
  eosTokenId: number;
  padTokenId: number;
}

export interface VariantRequirements {
  shaderF16: boolean;
  /**
   * How the weights are stored; default float16 where shaderF16 is asked,
   * else float32. Judges WebAssembly memory: float16 weights get float32
   * copies there, int8 ones are dequantized per run.
   */
  weights?: 'float32' | 'float16' | 'int8';
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /**
   * The largest buffer once self-attention runs in row blocks, measured at
   * install (slice-attention.ts). A WebGPU load slices the UNet's attention
   * where the adapter cannot bind the whole score tensor; absent where
   * nothing slices (or the pack was installed before this was measured).
   */
  slicedBufferSize?: number;
  memoryBytes: number;
}

export interface PackVariant {
  id: string;
  label: string;
  default?: boolean;
  backends: Backend[];
  /** An imported pack's variant with LoRAs fused on top of the pack's own (Apply LoRA). */
  loras?: LoraUse[];
  requires: VariantRequirements;
  components: Partial<Record<ComponentName, string>> & {
    textEncoder: string;
    unet: string;
    vaeDecoder: string;
  };
}

/** A pack's optional ControlNet: what its condition image holds, and its strength. */
export interface ControlConfig {
  /** 'outline': lines drawn by hand, white on black, values in [0, 1] (scribble- or Canny-style). */
  kind: 'outline';
  /** The conditioning scale (the residuals' multiplier) unless the user says. */
  defaultStrength: number;
  strengthRange: [number, number];
}

export interface PackFile {
  path: string;
  size: number;
  /** Lower-case hex SHA-256, or null when no published hash exists ("unverified"). */
  sha256: string | null;
  url?: string;
}

export interface PackLicense {
  spdx: string;
  name: string;
  url: string;
  restricted: boolean;
  summary: string;
}

export interface PackManifest {
  format: 'gesso-pack@1';
  id: string;
  name: string;
  version: string;
  description: string;
  pipeline: PipelineKind;
  image: { width: number; height: number };
  latent: {
    channels: number;
    downscale: number;
    scalingFactor: number;
    decoderOutput: 'minus-one-to-one' | 'zero-to-one';
    /** A separate preview decoder's output range (TAESD as diffusers' AutoencoderTiny: [-1, 1], the default). */
    previewOutput?: 'minus-one-to-one' | 'zero-to-one';
  };
  defaults: {
    steps: number;
    guidance: number;
    /** How much a start photo is changed unless the user says (0 keeps it, 1 ignores it); default 0.5. */
    startStrength?: number;
  };
  ranges: { steps: [number, number]; guidance: [number, number] };
  scheduler: SchedulerConfig;
  guidanceEmbedding?: { dim: number; scale: number };
  /** Present when variants carry a `controlNet` component. */
  control?: ControlConfig;
  tokenizer: TokenizerConfig;
  variants: PackVariant[];
  files: PackFile[];
  license: PackLicense;
  attribution: string;
  /** Packs made on the device from a person's checkpoint (src/engine/import/): what they came from. */
  imported?: ImportedFrom;
}

export interface ImportedFrom {
  /** The checkpoint's file name as picked. */
  file: string;
  family: 'sd15' | 'sd21';
  /** 'reduced': a width-reduced test checkpoint (every channel / 8). */
  width: 'full' | 'reduced';
  /** The file's SHA-256 (lower-case hex): A1111's "Model hash" is its first 10 digits. */
  sha256?: string;
  /** int8: written as an int8 copy, because the fp16 weights would not run on the device that imported it. */
  weights?: 'fp16' | 'int8';
  /** Why fp16 would not have run there (the fit verdict's clause), where int8 was chosen. */
  int8Reason?: string;
  /** LoRAs fused in, as A1111 writes them: `<lora:name:0.8>`. */
  loras: LoraUse[];
}

/** A LoRA fused into a model at a strength (A1111: `<lora:name:0.8>`). */
export interface LoraUse {
  name: string;
  strength: number;
}
