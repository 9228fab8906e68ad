/**
 * One engine for the three pipeline kinds (manifest.pipeline):
 * - "sd-turbo": Euler-ancestral (trailing) sampling, no guidance;
 * - "lcm": LCM sampling, guidance as the `timestep_cond` embedding;
 * - "demo": LCM sampling with the pack's scheduler parameters; guidance by
 *   `timestep_cond` when the UNet has it, else classifier-free guidance.
 * Every name, dtype and shape comes from the sessions' metadata.
 */

import { GessoError } from '../../shared/errors';
import type { ComponentName, PackManifest, PackVariant } from '../../shared/pack-manifest';
import type { PackSource } from '../../shared/pack-source';
import { chwToRgba, scaled, type DecoderRange, type RgbaImage } from '../image';
import { Random } from '../random';
import { createScheduler, guidanceEmbedding } from '../schedulers';
import {
  dimOr,
  findInput,
  inputOr,
  isDeviceTensor,
  outputOr,
  type ModelSession,
  type SessionFactory,
  type Value,
} from '../session';
import { floatTensor, numberTensor, toFloat32, type DType } from '../tensors';
import { loadClipTokenizer, type ClipTokenizer } from '../tokenizer';
import { externalDataPaths, readExternalData } from './external-data';
import type {
  Conditioning,
  GenerateOptions,
  GenerateRequest,
  GenerateResult,
  NoisePredictor,
  StageTimings,
  StepContext,
} from './types';

export interface LoadProgress {
  /** What is happening: reading a file, or compiling a model into a session. */
  phase: 'read' | 'start' | 'ready';
  path: string | null;
  /** Bytes of the pack's files handled so far; never goes down, ends at total. */
  loaded: number;
  total: number;
}

export interface LoadOptions {
  factory: SessionFactory;
  variant: PackVariant;
  /** Free the text encoder after each encoding (re-created from the pack when the prompt changes). */
  releaseTextEncoder?: boolean;
  /** Try to keep text states on the GPU between steps (WebGPU factories honour it). */
  keepTextOnDevice?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

interface Decoder {
  session: ModelSession;
  /** Multiply UNet latents by this before decoding. */
  latentScale: number;
  range: DecoderRange;
}

const PREVIEW_WITH_VAE_MAX_BYTES = 16 * 1024 * 1024;
// Main, negative and empty prompts plus up to 8 regions: a regional image re-encodes nothing.
const CONDITIONING_CACHE = 12;

/**
 * Lets queued messages (the page's abort) run: inference resolves through
 * microtasks only, so without this a worker would not see an abort until
 * the whole generation ended. A MessageChannel hop is not clamped like setTimeout.
 */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

function aborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new GessoError('aborted', 'Cancelled.');
}

function fileSize(manifest: PackManifest, path: string): number {
  return manifest.files.find((file) => file.path === path)?.size ?? 0;
}

function asDType(type: string, what: string): DType {
  if (type === 'float32' || type === 'float16' || type === 'int32' || type === 'int64') return type;
  throw new GessoError(
    'unsupported-operator',
    `The model's ${what} uses ${type} data, which Gesso cannot feed yet; choose another pack variant.`,
  );
}

export class Pipeline {
  private textEncoder: ModelSession | null;
  private readonly conditionings = new Map<string, Conditioning>();

  private constructor(
    readonly manifest: PackManifest,
    readonly variant: PackVariant,
    readonly tokenizer: ClipTokenizer,
    private readonly source: PackSource,
    private readonly options: LoadOptions,
    textEncoder: ModelSession,
    readonly unet: ModelSession,
    private readonly decoder: Decoder,
    private readonly previewDecoder: Decoder | null,
  ) {
    this.textEncoder = textEncoder;
  }

  static async load(source: PackSource, options: LoadOptions): Promise<Pipeline> {
    const { manifest } = source;
    const { variant, factory, signal, onProgress } = options;
    const components = variant.components;
    const modelPaths = [
      ...new Set(
        [
          components.textEncoder,
          components.unet,
          components.vaeDecoder,
          components.previewDecoder,
        ].filter((p): p is string => Boolean(p)),
      ),
    ];
    const tokenizerPaths = [manifest.tokenizer.vocab, manifest.tokenizer.merges];
    // Each model counts twice: once read, once started; its external data once, read.
    const externalPaths = modelPaths.flatMap((path) => externalDataPaths(manifest, path));
    const total = [...tokenizerPaths, ...modelPaths, ...modelPaths, ...externalPaths].reduce(
      (sum, path) => sum + fileSize(manifest, path),
      0,
    );
    let loaded = 0;
    const report = (phase: LoadProgress['phase'], path: string | null, bytes: number) => {
      loaded = Math.min(total, loaded + bytes);
      onProgress?.({ phase, path, loaded, total });
    };
    const read = async (path: string) => {
      aborted(signal);
      try {
        const bytes = await source.read(path, signal);
        report('read', path, fileSize(manifest, path));
        return bytes;
      } catch (error) {
        if (error instanceof GessoError) throw error;
        throw new GessoError(
          'pack-missing',
          `The model file ${path} could not be read. Download the pack again in Models.`,
          { cause: error },
        );
      }
    };
    const decodeText = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const [vocab, merges] = await Promise.all(tokenizerPaths.map(read));
    const tokenizer = loadClipTokenizer(
      decodeText(vocab!),
      decodeText(merges!),
      manifest.tokenizer,
    );

    const sessions = new Map<string, ModelSession>();
    try {
      const start = async (path: string, label: string, hints?: Parameters<SessionFactory>[2]) => {
        const existing = sessions.get(path);
        if (existing) return existing;
        const bytes = await read(path);
        const externalData = await readExternalData(source, path, signal);
        for (const file of externalDataPaths(manifest, path))
          report('read', file, fileSize(manifest, file));
        aborted(signal);
        const session = await factory(bytes, label, { ...hints, externalData });
        sessions.set(path, session);
        report('start', path, fileSize(manifest, path));
        return session;
      };
      const keepText = Boolean(options.keepTextOnDevice) && !options.releaseTextEncoder;
      const textEncoder = await start(
        components.textEncoder,
        'text encoder',
        keepText ? { deviceOutputs: ['last_hidden_state'] } : undefined,
      );
      const unet = await start(components.unet, 'image model (UNet)');
      const vae = await start(components.vaeDecoder, 'image decoder');
      const decoder: Decoder = {
        session: vae,
        latentScale: 1 / manifest.latent.scalingFactor,
        range: manifest.latent.decoderOutput,
      };
      let preview: Decoder | null = null;
      if (components.previewDecoder && components.previewDecoder !== components.vaeDecoder) {
        // A separate preview decoder is TAESD-style: UNet-space latents (scale 1), [-1, 1] output as diffusers' AutoencoderTiny.
        preview = {
          session: await start(components.previewDecoder, 'preview decoder'),
          latentScale: 1,
          range: 'minus-one-to-one',
        };
      } else if (
        components.previewDecoder ||
        fileSize(manifest, components.vaeDecoder) <= PREVIEW_WITH_VAE_MAX_BYTES
      ) {
        preview = decoder;
      }
      onProgress?.({ phase: 'ready', path: null, loaded: total, total });
      return new Pipeline(
        manifest,
        variant,
        tokenizer,
        source,
        options,
        textEncoder,
        unet,
        decoder,
        preview,
      );
    } catch (error) {
      await Promise.all([...sessions.values()].map((s) => s.release().catch(() => undefined)));
      throw error;
    }
  }

  /** The UNet's guidance mechanism for this pack. */
  get guidanceMode(): 'embedding' | 'cfg' | 'none' {
    if (findInput(this.unet, 'timestep_cond')) return 'embedding';
    return this.manifest.pipeline === 'sd-turbo' ? 'none' : 'cfg';
  }

  /** Tokenize and encode a prompt (cached for the last few prompts). */
  async encodePrompt(prompt: string, signal?: AbortSignal): Promise<Conditioning> {
    const cached = this.conditionings.get(prompt);
    if (cached) {
      this.conditionings.delete(prompt);
      this.conditionings.set(prompt, cached);
      return cached;
    }
    aborted(signal);
    const session = await this.openTextEncoder(signal);
    const idsInfo = inputOr(session, 'input_ids');
    const ids = this.tokenizer.encode(prompt);
    const length = dimOr(idsInfo, 1, ids.length);
    const padded = new Int32Array(length).fill(this.manifest.tokenizer.padTokenId);
    padded.set(ids.subarray(0, length));
    if (length < ids.length) padded[length - 1] = this.manifest.tokenizer.eosTokenId;
    const outputs = await session.run({
      [idsInfo.name]: numberTensor(asDType(idsInfo.type, 'token ids'), [1, length], padded),
    });
    const name = outputOr(session, 'last_hidden_state').name;
    for (const [key, value] of Object.entries(outputs))
      if (key !== name && isDeviceTensor(value)) value.dispose();
    const conditioning: Conditioning = { prompt, hidden: outputs[name]! };
    if (this.options.releaseTextEncoder) {
      this.textEncoder = null;
      await session.release();
    }
    this.conditionings.set(prompt, conditioning);
    while (this.conditionings.size > CONDITIONING_CACHE) {
      const [oldest, entry] = this.conditionings.entries().next().value as [string, Conditioning];
      this.conditionings.delete(oldest);
      if (isDeviceTensor(entry.hidden)) entry.hidden.dispose();
    }
    return conditioning;
  }

  private async openTextEncoder(signal?: AbortSignal): Promise<ModelSession> {
    if (this.textEncoder) return this.textEncoder;
    const path = this.variant.components.textEncoder;
    const bytes = await this.source.read(path, signal);
    const externalData = await readExternalData(this.source, path, signal);
    this.textEncoder = await this.options.factory(bytes, 'text encoder', { externalData });
    return this.textEncoder;
  }

  /** One UNet evaluation: epsilon for `modelInput` at `timestep` under one conditioning. */
  async runUnet(
    modelInput: Float32Array,
    dims: readonly number[],
    timestep: number,
    conditioning: Conditioning,
    guidance: number,
  ): Promise<Float32Array> {
    const unet = this.unet;
    const sample = inputOr(unet, 'sample', 0);
    const time = inputOr(unet, 'timestep', 1);
    const text = inputOr(unet, 'encoder_hidden_states', 2);
    const feeds: Record<string, Value> = {
      [sample.name]: floatTensor(asDType(sample.type, 'latent input'), dims, modelInput),
      [time.name]: numberTensor(
        asDType(time.type, 'timestep'),
        time.shape.length === 0 ? [] : [1],
        [timestep],
      ),
      [text.name]: this.hiddenFor(conditioning, asDType(text.type, 'text states')),
    };
    const cond = findInput(unet, 'timestep_cond');
    if (cond) {
      const dim = dimOr(cond, 1, this.manifest.guidanceEmbedding?.dim ?? 256);
      const embedding = guidanceEmbedding(
        guidance,
        dim,
        this.manifest.guidanceEmbedding?.scale ?? 1000,
      );
      feeds[cond.name] = floatTensor(asDType(cond.type, 'guidance embedding'), [1, dim], embedding);
    }
    const outputs = await unet.run(feeds);
    const out = outputs[outputOr(unet, 'out_sample').name]!;
    if (isDeviceTensor(out))
      throw new GessoError('internal', 'The UNet output stayed on the GPU unexpectedly.');
    return toFloat32(out);
  }

  private hiddenFor(conditioning: Conditioning, type: DType): Value {
    const hidden = conditioning.hidden;
    if (hidden.type === type) return hidden;
    if (isDeviceTensor(hidden))
      throw new GessoError('internal', 'Text states on the GPU have the wrong type for the UNet.');
    // Convert once and remember (float32 <-> float16 between exports).
    const converted = floatTensor(type, hidden.dims, toFloat32(hidden));
    conditioning.hidden = converted;
    return converted;
  }

  /** The default predictor: the prompt with this pack's guidance (embedding, CFG or none). */
  async predictNoise(
    modelInput: Float32Array,
    dims: readonly number[],
    context: StepContext,
    conditioning: Conditioning,
    guidance: number,
    unconditional: Conditioning | null,
  ): Promise<Float32Array> {
    const eps = await this.runUnet(modelInput, dims, context.timestep, conditioning, guidance);
    if (!unconditional) return eps;
    const uncond = await this.runUnet(modelInput, dims, context.timestep, unconditional, guidance);
    for (let i = 0; i < eps.length; i++) eps[i] = uncond[i]! + guidance * (eps[i]! - uncond[i]!);
    return eps;
  }

  /** Latent dims [1, C, h, w] for a request: fixed UNet dims win, else the requested or default size. */
  latentDims(request: Pick<GenerateRequest, 'width' | 'height'>): number[] {
    const sample = inputOr(this.unet, 'sample', 0);
    const { latent, image } = this.manifest;
    const h = dimOr(sample, 2, Math.round((request.height ?? image.height) / latent.downscale));
    const w = dimOr(sample, 3, Math.round((request.width ?? image.width) / latent.downscale));
    return [1, dimOr(sample, 1, latent.channels), h, w];
  }

  async decode(
    latents: Float32Array,
    dims: readonly number[],
    which: 'final' | 'preview' = 'final',
  ): Promise<RgbaImage> {
    const decoder = which === 'preview' && this.previewDecoder ? this.previewDecoder : this.decoder;
    const input = inputOr(decoder.session, 'latent_sample');
    const outputs = await decoder.session.run({
      [input.name]: floatTensor(
        asDType(input.type, 'decoder input'),
        dims,
        scaled(latents, decoder.latentScale),
      ),
    });
    const out = outputs[outputOr(decoder.session, 'sample').name]!;
    if (isDeviceTensor(out))
      throw new GessoError('internal', 'The decoder output stayed on the GPU unexpectedly.');
    return chwToRgba(toFloat32(out), out.dims, decoder.range);
  }

  /**
   * A new session for a component of the loaded variant, owned by the
   * caller, who releases it when done (img2img opens 'vaeEncoder' for one
   * encoding, so it does not stay in memory). Null when the variant has no
   * such component.
   */
  async openComponent(component: ComponentName, label: string): Promise<ModelSession | null> {
    const path = this.variant.components[component];
    if (!path) return null;
    const bytes = await this.source.read(path);
    return this.options.factory(bytes, label, {
      externalData: await readExternalData(this.source, path),
    });
  }

  /** Forget cached prompt encodings (benchmarks time the text encoder on every run). */
  clearPromptCache(): void {
    for (const entry of this.conditionings.values())
      if (isDeviceTensor(entry.hidden)) entry.hidden.dispose();
    this.conditionings.clear();
  }

  get hasPreview(): boolean {
    return this.previewDecoder !== null;
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const { signal, onStep } = options;
    const started = performance.now();
    const timings: StageTimings = {
      tokenizeMs: 0,
      textEncodeMs: 0,
      unetMs: [],
      stepOverheadMs: 0,
      decodeMs: 0,
      totalMs: 0,
    };
    const [minSteps, maxSteps] = this.manifest.ranges.steps;
    const steps = Math.round(request.steps);
    if (!(steps >= minSteps && steps <= maxSteps))
      throw new GessoError('internal', `Steps must be between ${minSteps} and ${maxSteps}.`);
    aborted(signal);

    let t = performance.now();
    this.tokenizer.encode(request.prompt); // timed on its own; encodePrompt tokenizes again (cheap, cached BPE)
    timings.tokenizeMs = performance.now() - t;

    t = performance.now();
    const mode = this.guidanceMode;
    const conditioning = await this.encodePrompt(request.prompt, signal);
    const unconditional =
      mode === 'cfg' && request.guidance > 1
        ? await this.encodePrompt(request.negativePrompt ?? '', signal)
        : null;
    timings.textEncodeMs = performance.now() - t;

    const schedulerConfig =
      this.manifest.pipeline === 'demo'
        ? { ...this.manifest.scheduler, kind: 'lcm' as const }
        : this.manifest.scheduler;
    const scheduler = createScheduler(schedulerConfig, {
      steps,
      strength: request.init?.strength ?? 1,
    });
    const dims = this.latentDims(request);
    const count = dims.reduce((a, b) => a * b, 1);
    const random = new Random(request.seed);
    const initial = random.gaussians(count);
    let latents: Float32Array;
    if (request.init) {
      if (request.init.latents.length !== count)
        throw new GessoError('internal', 'The starting image has the wrong latent size.');
      latents = scheduler.addNoise(request.init.latents, initial, 0);
    } else {
      latents = scaled(initial, scheduler.initNoiseSigma);
    }

    const base: NoisePredictor = (input, context) =>
      this.predictNoise(input, dims, context, conditioning, request.guidance, unconditional);
    const predictor = options.predictor ? options.predictor(base) : base;
    const total = scheduler.timesteps.length;
    let denoised = latents;
    for (let i = 0; i < total; i++) {
      await yieldToEvents();
      aborted(signal);
      const timestep = scheduler.timesteps[i]!;
      const stepStart = performance.now();
      const input = scaled(latents, scheduler.modelInputScale(i));
      const unetStart = performance.now();
      const eps = await predictor(input, { index: i, steps: total, timestep, signal });
      const unetMs = performance.now() - unetStart;
      timings.unetMs.push(unetMs);
      const result = scheduler.step(i, latents, eps, (n) => random.gaussians(n));
      latents = result.next;
      denoised = result.denoised;
      const last = i + 1 === total;
      let preview: RgbaImage | null = null;
      if (!last && request.preview !== false && this.previewDecoder)
        preview = await this.decode(denoised, dims, 'preview');
      timings.stepOverheadMs += performance.now() - stepStart - unetMs;
      if (!last) onStep?.({ step: i + 1, steps: total, timestep, preview });
    }
    await yieldToEvents();
    aborted(signal);
    t = performance.now();
    const image = await this.decode(denoised, dims, 'final');
    timings.decodeMs = performance.now() - t;
    timings.totalMs = performance.now() - started;
    onStep?.({
      step: total,
      steps: total,
      timestep: scheduler.timesteps[total - 1]!,
      preview: image,
    });
    return {
      image,
      seed: request.seed,
      steps: total,
      timings,
      textStatesOnGpu: isDeviceTensor(conditioning.hidden),
    };
  }

  async release(): Promise<void> {
    this.clearPromptCache();
    const sessions = new Set([
      this.textEncoder,
      this.unet,
      this.decoder.session,
      this.previewDecoder?.session,
    ]);
    this.textEncoder = null;
    await Promise.all([...sessions].map((s) => s?.release()));
  }
}
