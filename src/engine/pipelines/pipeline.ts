/**
 * One engine for the three pipeline kinds (manifest.pipeline):
 * - "sd-turbo": Euler-ancestral (trailing) sampling, no guidance;
 * - "lcm": LCM sampling, guidance as the `timestep_cond` embedding;
 * - "demo": LCM sampling with the pack's scheduler parameters; guidance by
 *   `timestep_cond` when the UNet has it, else classifier-free guidance.
 * Every name, dtype and shape comes from the sessions' metadata. This class
 * composes the parts: loading (load.ts), prompts (prompts.ts), feeding the
 * UNet (unet.ts), the loop (denoise.ts) and decoding (decode.ts).
 *
 * Over 300 lines because it is the one object every run goes through: the
 * loaded sessions and the per-request resolution into a Recipe. The UNet and
 * what stands in for it (explain's copy, a ControlNet) live in unet-slot.ts;
 * the loop with the latents on the GPU in device-image.ts and device-loop.ts.
 */

import { GessoError } from '../../shared/errors';
import { guidanceKind, runsUnconditional, type GuidanceKind } from '../../shared/guidance';
import { modelSourceOf } from '../../shared/model-source';
import type { ComponentName, PackManifest, PackVariant } from '../../shared/pack-manifest';
import type { PackSource } from '../../shared/pack-source';
import { encodeRuns } from '../../shared/mask-runs';
import { Random } from '../../shared/random';
import { emptyTimings, SAMPLER_NAMES, type Recipe, type StageTimings } from '../../shared/recipe';
import type { DecoderChoice } from '../../shared/recipe';
import type { RgbaImage } from '../../shared/rgba';
import { throwIfAborted, yieldToEvents } from '../abort';
import { scaled } from '../image';
import { classifierFreeGuidance, createScheduler, type Scheduler } from '../schedulers';
import { findInput, isDeviceTensor, type ModelSession, type Value } from '../session';
import { floatTensor, toFloat32, type DType } from '../tensors';
import type { ClipTokenizer } from '../tokenizer';
import { decodeLatents, type Decoder } from './decode';
import { denoise } from './denoise';
import { imageOnDevice } from './device-image';
import { DeviceSessions } from './device-sessions';
import { asDType } from './dtype';
import { loadModels, type LoadedModels, type LoadOptions } from './load';
import { openModel } from './open-model';
import { PromptEncoder } from './prompts';
import type {
  Conditioning,
  GenerateOptions,
  GenerateRequest,
  GenerateResult,
  StepContext,
} from './types';
import { latentDims, runUnet, unetFeeds, unetTextInput } from './unet';
import { UnetSlot } from './unet-slot';

export class Pipeline {
  readonly tokenizer: ClipTokenizer;
  /** The loaded UNet and its stand-ins (explain's copy, a ControlNet pair). */
  private readonly unets: UnetSlot;
  private readonly prompts: PromptEncoder;
  private readonly decoder: Decoder;
  private readonly previewDecoder: Decoder | null;
  /** The step graph and read-back sessions of the GPU-resident loop, opened on first use. */
  private readonly device: DeviceSessions;

  private constructor(
    readonly manifest: PackManifest,
    readonly variant: PackVariant,
    private readonly source: PackSource,
    private readonly options: LoadOptions,
    models: LoadedModels,
  ) {
    this.tokenizer = models.tokenizer;
    this.unets = new UnetSlot(models.unet, { manifest, variant, source, factory: options.factory });
    this.decoder = models.decoder;
    this.previewDecoder = models.previewDecoder;
    this.device = new DeviceSessions(options.factory);
    this.prompts = new PromptEncoder(
      models.tokenizer,
      manifest,
      models.textEncoder,
      (signal) =>
        openModel(
          source,
          options.factory,
          variant.components.textEncoder,
          'text encoder',
          {},
          signal,
        ),
      Boolean(options.releaseTextEncoder),
    );
  }

  static async load(source: PackSource, options: LoadOptions): Promise<Pipeline> {
    const models = await loadModels(source, options);
    return new Pipeline(source.manifest, options.variant, source, options, models);
  }

  /** The UNet every step runs: the loaded one, or a stand-in (UnetSlot). */
  get unet(): ModelSession {
    return this.unets.current;
  }

  /**
   * Runs `work` with a copy of the loaded variant's UNet in its place, its
   * model bytes rewritten by `rewrite` first (external weights untouched) and
   * its session seen through `wrap` (same inputs, same main output); see UnetSlot.
   */
  withUnetCopy<T>(
    copy: Parameters<UnetSlot['withCopy']>[0],
    work: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.unets.withCopy(copy, work, signal);
  }

  /** Files up to this size may be open beside the loaded UNet (see UnetSlot). */
  get alongsideMaxBytes(): number {
    return this.unets.alongsideMaxBytes;
  }

  set alongsideMaxBytes(bytes: number) {
    this.unets.alongsideMaxBytes = bytes;
  }

  /** The UNet's guidance mechanism for this pack. */
  get guidanceKind(): GuidanceKind {
    return guidanceKind(this.manifest.pipeline, Boolean(findInput(this.unet, 'timestep_cond')));
  }

  get hasPreview(): boolean {
    return this.previewDecoder !== null;
  }

  /** The pack has a decoder of its own for previews (TAESD-style) that can make the final image too. */
  get hasFastDecoder(): boolean {
    return this.previewDecoder !== null && this.previewDecoder !== this.decoder;
  }

  /** The decoder for the final image: the fast one only where asked and the pack has one. */
  private finalDecoder(choice: DecoderChoice | undefined): Decoder {
    return choice === 'fast' && this.hasFastDecoder ? this.previewDecoder! : this.decoder;
  }

  /** The final decode runs in overlapping tiles (LoadOptions.tiledDecode, where it applies). */
  get decodesInTiles(): boolean {
    return Boolean(this.decoder.tile);
  }

  /** Tokenize and encode a prompt (cached for the last few prompts). */
  encodePrompt(prompt: string, signal?: AbortSignal): Promise<Conditioning> {
    return this.prompts.encode(prompt, signal);
  }

  /** Forget cached prompt encodings (benchmarks time the text encoder on every run). */
  clearPromptCache(): void {
    this.prompts.clear();
  }

  /** One UNet evaluation: epsilon for `modelInput` at `timestep` under one conditioning. */
  runUnet(
    modelInput: Float32Array,
    dims: readonly number[],
    timestep: number,
    conditioning: Conditioning,
    guidance: number,
  ): Promise<Float32Array> {
    const text = this.hiddenFor(
      conditioning,
      asDType(unetTextInput(this.unet).type, 'text states'),
    );
    return runUnet(
      this.unet,
      unetFeeds(this.unet, this.manifest, { sample: modelInput, dims, timestep, text, guidance }),
      (value) => this.device.readBack(value),
    );
  }

  /** The prompt's text states in the UNet's dtype (converted once and remembered). */
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

  /** The prompt's noise prediction with this pack's guidance (embedding, CFG or none). */
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
    return classifierFreeGuidance(eps, uncond, guidance);
  }

  /** The unconditional (negative prompt) encoding where this pack runs CFG at `guidance`, else null. */
  async unconditionalFor(
    request: Pick<GenerateRequest, 'negativePrompt'>,
    guidance: number,
    signal?: AbortSignal,
  ): Promise<Conditioning | null> {
    return runsUnconditional(this.guidanceKind, guidance)
      ? this.encodePrompt(request.negativePrompt ?? '', signal)
      : null;
  }

  /** Latent dims [1, C, h, w] for a request: fixed UNet dims win, else the requested or default size. */
  latentDims(request: Pick<GenerateRequest, 'width' | 'height'>): number[] {
    return latentDims(this.unet, this.manifest, request);
  }

  /** Decodes with the full VAE ('final'), the fast decoder where the pack has one ('fast'), or the preview decoder. */
  decode(
    latents: Float32Array,
    dims: readonly number[],
    which: 'final' | 'fast' | 'preview' = 'final',
  ): Promise<RgbaImage> {
    const decoder =
      which === 'preview' && this.previewDecoder
        ? this.previewDecoder
        : this.finalDecoder(which === 'fast' ? 'fast' : 'full');
    return decodeLatents(decoder, latents, dims);
  }

  /**
   * A new session for a component of the loaded variant, owned by the
   * caller, who releases it when done (img2img opens 'vaeEncoder' for one
   * encoding, so it does not stay in memory). Null when the variant has no
   * such component.
   */
  async openComponent(component: ComponentName, label: string): Promise<ModelSession | null> {
    const path = this.variant.components[component];
    return path ? openModel(this.source, this.options.factory, path, label) : null;
  }

  /** The request as it will run: guidance, seed and size resolved against this pack. */
  resolve(request: GenerateRequest, steps: number): Recipe {
    const dims = this.latentDims(request);
    const kind = this.guidanceKind;
    const recipe: Recipe = {
      prompt: request.prompt,
      negativePrompt: runsUnconditional(kind, request.guidance ?? this.manifest.defaults.guidance)
        ? (request.negativePrompt ?? '')
        : '',
      pack: { id: this.manifest.id, version: this.manifest.version, variant: this.variant.id },
      steps,
      guidance: request.guidance ?? this.manifest.defaults.guidance,
      seed: request.seed >>> 0,
      width: dims[3]! * this.manifest.latent.downscale,
      height: dims[2]! * this.manifest.latent.downscale,
    };
    const sampler = SAMPLER_NAMES[this.manifest.pipeline];
    if (sampler) recipe.sampler = sampler;
    if (request.regions) recipe.regions = request.regions;
    if (request.startImage) recipe.startImage = { strength: request.startImage.strength };
    if (this.hasFastDecoder) recipe.decoder = request.decoder === 'fast' ? 'fast' : 'full';
    const model = modelSourceOf(this.manifest, this.variant);
    if (model) recipe.model = model;
    if (request.outline)
      recipe.outline = {
        strength: request.outline.strength,
        mask: encodeRuns(request.outline.mask),
      };
    if (request.repaint)
      recipe.repaint = {
        parent: request.repaint.parent ?? null,
        mask: encodeRuns(request.repaint.mask),
      };
    return recipe;
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const { outline } = request;
    if (!outline) return this.generateWithUnet(request, options, true);
    const dims = this.latentDims(request);
    const size = {
      width: dims[3]! * this.manifest.latent.downscale,
      height: dims[2]! * this.manifest.latent.downscale,
    };
    return this.unets.withControl(
      outline,
      size,
      () => this.generateWithUnet(request, options, false),
      options.signal,
    );
  }

  /**
   * The loop runs on the GPU (device-loop.ts) where the pack was loaded for it
   * and nothing needs the latents on the CPU between steps: not regions or
   * explain (their own predictor), repaint (kept latents), a ControlNet
   * (`loadedUnet` false: a stand-in UNet with CPU outputs) or a tiled decode.
   */
  private runsOnDevice(options: GenerateOptions, loadedUnet: boolean, final: Decoder): boolean {
    return (
      Boolean(this.options.latentsOnDevice) &&
      loadedUnet &&
      !options.predictor &&
      !options.keep &&
      !final.tile
    );
  }

  private async generateWithUnet(
    request: GenerateRequest,
    options: GenerateOptions,
    loadedUnet: boolean,
  ): Promise<GenerateResult> {
    const { signal, onStep, init } = options;
    const started = performance.now();
    const timings: StageTimings = emptyTimings();
    const [minSteps, maxSteps] = this.manifest.ranges.steps;
    const steps = Math.round(request.steps);
    if (!(steps >= minSteps && steps <= maxSteps))
      throw new GessoError('internal', `Steps must be between ${minSteps} and ${maxSteps}.`);
    throwIfAborted(signal);
    const recipe = this.resolve(request, steps);

    let t = performance.now();
    this.tokenizer.encode(recipe.prompt); // timed on its own; encodePrompt tokenizes again (cheap, cached BPE)
    timings.tokenizeMs = performance.now() - t;

    t = performance.now();
    const conditioning = await this.encodePrompt(recipe.prompt, signal);
    const unconditional = await this.unconditionalFor(request, recipe.guidance, signal);
    timings.textEncodeMs = performance.now() - t;

    const schedulerConfig =
      this.manifest.pipeline === 'demo'
        ? { ...this.manifest.scheduler, kind: 'lcm' as const }
        : this.manifest.scheduler;
    const scheduler = createScheduler(schedulerConfig, { steps, strength: init?.strength ?? 1 });
    const dims = this.latentDims(request);
    const count = dims.reduce((a, b) => a * b, 1);
    const random = new Random(recipe.seed);
    const noise = random.gaussians(count);
    if (init && init.latents.length !== count)
      throw new GessoError('internal', 'The starting image has the wrong latent size.');
    const latents = init
      ? scheduler.addNoise(init.latents, noise, 0)
      : scaled(noise, scheduler.initNoiseSigma);

    const final = this.finalDecoder(recipe.decoder);
    if (this.runsOnDevice(options, loadedUnet, final)) {
      const previewDecoder = request.preview !== false ? this.previewDecoder : null;
      const { image, readsPerStep } = await imageOnDevice({
        unet: this.unet,
        manifest: this.manifest,
        device: this.device,
        textStates: (conditioning, type) => this.hiddenFor(conditioning, type),
        final,
        preview: previewDecoder,
        previewInputOf: previewDecoder ?? this.decoder,
        scheduler,
        latents,
        dims,
        random,
        conditioning,
        unconditional,
        guidance: recipe.guidance,
        timings,
        ...(signal ? { signal } : {}),
        ...(onStep ? { onStep } : {}),
      });
      timings.totalMs = performance.now() - started;
      return this.finish(image, recipe, timings, scheduler, conditioning, readsPerStep, onStep);
    }

    const denoised = await denoise({
      scheduler,
      latents,
      random,
      predict:
        options.predictor ??
        ((input, context) =>
          this.predictNoise(input, dims, context, conditioning, recipe.guidance, unconditional)),
      preview:
        request.preview !== false && this.previewDecoder
          ? (estimate) => this.decode(estimate, dims, 'preview')
          : null,
      timings,
      ...(signal ? { signal } : {}),
      ...(onStep ? { onStep } : {}),
      ...(options.keep ? { keep: options.keep } : {}),
    });
    await yieldToEvents();
    throwIfAborted(signal);
    t = performance.now();
    const image = await this.decode(denoised, dims, recipe.decoder === 'fast' ? 'fast' : 'final');
    timings.decodeMs = performance.now() - t;
    timings.totalMs = performance.now() - started;
    return this.finish(image, recipe, timings, scheduler, conditioning, null, onStep);
  }

  /** Reports the final image as the last step's progress; the result. */
  private finish(
    image: RgbaImage,
    recipe: Recipe,
    timings: StageTimings,
    scheduler: Scheduler,
    conditioning: Conditioning,
    gpuReadsPerStep: number[] | null,
    onStep: GenerateOptions['onStep'],
  ): GenerateResult {
    const total = scheduler.timesteps.length;
    onStep?.({
      step: total,
      steps: total,
      timestep: scheduler.timesteps[total - 1]!,
      preview: image,
    });
    return {
      image,
      recipe: { ...recipe, steps: total },
      timings,
      textStatesOnGpu: isDeviceTensor(conditioning.hidden),
      tiledDecode: Boolean(this.finalDecoder(recipe.decoder).tile),
      gpuReadsPerStep,
    };
  }

  /**
   * One throwaway image, so that every session has run once: on WebGPU the
   * first run of a model compiles its shaders (seconds to tens of seconds),
   * which would otherwise land on the person's first press. Two steps where
   * the pack previews, so the preview decoder and a noise-drawing step run
   * too; the pack's default guidance, so a CFG pack runs its guided step.
   */
  async warmUp(signal?: AbortSignal): Promise<void> {
    const [minSteps, maxSteps] = this.manifest.ranges.steps;
    const steps = this.previewDecoder ? Math.min(Math.max(minSteps, 2), maxSteps) : minSteps;
    await this.generate(
      { prompt: '', seed: 0, steps, guidance: this.manifest.defaults.guidance },
      signal ? { signal } : {},
    );
  }

  async release(): Promise<void> {
    await this.device.release();
    await this.prompts.release();
    await this.unets.release();
    const sessions = new Set([this.decoder.session, this.previewDecoder?.session]);
    await Promise.all([...sessions].map((s) => s?.release()));
  }
}
