/** The engine worker's API: one map, used by both sides (client.ts, worker.ts). */

import type { BackendPreference, BackendChoice, Capabilities } from '../shared/capabilities';
import type { Backend, ControlConfig, PackManifest, PipelineKind } from '../shared/pack-manifest';
import type { MethodSpec } from '../shared/rpc/wire';
import type { RgbaImage } from '../shared/rgba';
import type { Explanation } from '../shared/explanation';
import type { GuidanceKind } from '../shared/guidance';
import type { DecoderChoice, Recipe, StageTimings } from '../shared/recipe';
import type { GenerateRequest, LoadProgress } from './pipelines';
import type { ConversionProgress } from './convert/progress';
import type { TokenCount } from './tokenizer/count';

export type { RgbaImage } from '../shared/rgba';
export type { LoadProgress, StageTimings } from './pipelines';
export type { ConversionProgress } from './convert/progress';
import type { ImportModelArgs, ImportModelResult, InspectModelResult } from './import/service';
export type { ImportModelArgs, ImportModelResult, InspectModelResult } from './import/service';
import type { ConvertVariantArgs, ConvertVariantResult } from './convert/types';
export type { ConvertVariantArgs, ConvertVariantResult } from './convert/types';
import type { ApplyLoraArgs, ApplyLoraResult } from './import/apply-lora';
export type { ApplyLoraArgs, ApplyLoraResult } from './import/apply-lora';
export type { TokenCount } from './tokenizer/count';

export interface Float32TensorData {
  dims: number[];
  data: Float32Array;
}

export interface RunModelArgs {
  model: ArrayBuffer;
  backend: Backend;
  feeds: Record<string, Float32TensorData>;
  /** Timed runs after one untimed warm-up (default 1: no warm-up); `milliseconds` is their median. */
  repeats?: number;
}

export interface RunModelResult {
  backend: Backend;
  outputs: Record<string, Float32TensorData>;
  milliseconds: number;
}

export interface LoadPackArgs {
  /** A stored pack's id; omitted: the built-in demo pack. */
  packId?: string;
  /** Backend choice; default 'auto' (chooseBackend). */
  preference?: BackendPreference;
  /** A variant id; default: the pack's default variant if it fits, else the first that fits. */
  variantId?: string;
  /**
   * No throwaway image after loading (warm-up.ts), and one under way from an
   * earlier load stops: a run comes next (or a load is measured alone). Default false.
   */
  noWarmUp?: boolean;
  /**
   * Threads for onnxruntime's wasm build instead of the device's rule
   * (wasmThreads), for measuring. It takes effect only where this load starts
   * the runtime: the worker's first load.
   */
  wasmThreads?: number;
  /** Only a pack the store has installed: the built-in pack is never fetched from the server (a load ahead of need). */
  installedOnly?: boolean;
}

export interface LoadedPackInfo {
  packId: string;
  name: string;
  version: string;
  pipeline: PipelineKind;
  variantId: string;
  backend: Backend;
  /** Why this backend, in one sentence. */
  backendReason: string;
  image: { width: number; height: number };
  defaults: PackManifest['defaults'];
  ranges: { steps: [number, number]; guidance: [number, number] };
  guidance: GuidanceKind;
  /**
   * The final decoders this pack offers: `fast` where it has a separate
   * TAESD-style decoder; `default` is the engine's choice for this device
   * (Fast on WebAssembly where the full decode is slow, Full on a GPU).
   */
  decoders: { fast: boolean; default: DecoderChoice };
  hasPreview: boolean;
  /** The loaded variant has a VAE encoder: it can start from a photo or the drawing, and repaint. */
  hasImageEncoder: boolean;
  /** The pack's ControlNet settings when the loaded variant has one (it can follow a drawn outline), else null. */
  control: ControlConfig | null;
  /** The variant's estimated peak working memory (manifest). */
  memoryBytes: number;
  /** The text encoder is freed after each prompt to save memory. */
  releasesTextEncoder: boolean;
  /** The final image is decoded in overlapping tiles to save memory (memory is short and the image is larger than a tile). */
  tiledDecode: boolean;
  /** Text states are asked to stay on the GPU between steps (GenerateOutput says whether they did). */
  textStatesOnGpu: boolean;
  /** The UNet's self-attention runs in this many row blocks (1: whole), where the GPU cannot bind the whole score tensor. */
  attentionBlocks: number;
  loadMs: number;
  /** Milliseconds of the load's parts: opening the pack, the runtime, each model's session. */
  loadPhases: Record<string, number>;
  /**
   * Bytes of weights onnxruntime read straight from storage, per model label
   * (store/disk-bytes.ts); a model read whole into memory first is absent.
   */
  weightsFromDisk: Record<string, number>;
}

/** What the page asks for: a recipe request, plus whether to decode previews (default true). */
export type GenerateArgs = GenerateRequest;

/** Sent after each step; `preview` is the current estimate (its buffer is transferred). */
export interface GenerateProgress {
  step: number;
  steps: number;
  preview: RgbaImage | null;
}

/** The image, the recipe as it really ran, and how it ran. */
export interface GenerateOutput {
  image: RgbaImage;
  recipe: Recipe;
  backend: Backend;
  timings: StageTimings;
  /** The text states stayed on the GPU between steps. */
  textStatesOnGpu: boolean;
  /** The final image was decoded in overlapping tiles to save memory (slower, see LoadedPackInfo.tiledDecode). */
  tiledDecode: boolean;
  /** GPU-to-CPU reads of each step, previews aside, where the loop ran on the GPU; null where it ran on the CPU. */
  gpuReadsPerStep: number[] | null;
}

/** A generation that also says which word painted where (the same image as `generate` gives). */
export interface ExplainOutput extends GenerateOutput {
  explanation: Explanation;
}

export interface RemoveVariantsArgs {
  packId: string;
  /** The variant to keep; default: the int8 copy made on this device. */
  keep?: string;
}

export interface RemoveVariantsResult {
  /** The variants removed. */
  removed: string[];
  /** Bytes of the files deleted with them. */
  bytesFreed: number;
}

export type EngineApi = {
  detect: MethodSpec<void, Capabilities>;
  chooseBackend: MethodSpec<
    { preference: BackendPreference },
    BackendChoice & { capabilities: Capabilities }
  >;
  /** Runs one ONNX model once; used by the Diagnostics self-test and the smoke test. */
  runModel: MethodSpec<RunModelArgs, RunModelResult>;
  /** Loads a pack's sessions (replacing any loaded one); progress in bytes. */
  loadPack: MethodSpec<LoadPackArgs, LoadedPackInfo, LoadProgress>;
  /** Generates with the loaded pack (the demo pack is loaded first if none is). Abort stops before the next step; the pack stays loaded. */
  generate: MethodSpec<GenerateArgs, GenerateOutput, GenerateProgress>;
  /**
   * `generate` in explain mode: also a heat map per prompt word, from the
   * UNet's cross-attention. Fails with 'explain-unavailable' for packs
   * whose attention is fused.
   */
  explain: MethodSpec<GenerateArgs, ExplainOutput, GenerateProgress>;
  /** How many tokens a prompt takes with a pack's tokenizer, and the words past its limit. */
  countTokens: MethodSpec<{ packId?: string; prompt: string }, TokenCount>;
  /** Frees the loaded pack's sessions. */
  unloadPack: MethodSpec<void, void>;
  /**
   * Makes an int8 copy of an installed variant from IndexedDB into IndexedDB
   * (streamed, off the main thread) and adds it to the pack as its default
   * variant. Progress in bytes read; abort stops it and keeps nothing.
   */
  convertVariant: MethodSpec<ConvertVariantArgs, ConvertVariantResult, ConversionProgress>;
  /** Keeps one installed variant (the int8 copy) and deletes the others' files ("Remove the original"). */
  removeVariants: MethodSpec<RemoveVariantsArgs, RemoveVariantsResult>;
  /** Reads a picked checkpoint's header only: its family and, where its metadata says, its prediction type. */
  inspectModel: MethodSpec<{ file: File }, InspectModelResult>;
  /**
   * Makes a pack from a person's own .safetensors checkpoint (optionally with
   * an LCM-LoRA fused), tensor by tensor into IndexedDB. Progress in bytes
   * read; abort keeps nothing.
   */
  importModel: MethodSpec<ImportModelArgs, ImportModelResult, ConversionProgress>;
  /** Adds a LoRA at a strength to an imported pack as a new default variant (only the touched weights are written). */
  applyLora: MethodSpec<ApplyLoraArgs, ApplyLoraResult>;
  /** Removes the LoRA variant: the pack is as it was imported, bit for bit. */
  removeLora: MethodSpec<{ packId: string }, { bytesFreed: number }>;
};
