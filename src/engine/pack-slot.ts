/** The worker's loaded pack: one at a time, loaded on demand, kept across generations. */

import { chooseBackend } from '../shared/capabilities';
import type { Capabilities } from '../shared/capabilities';
import type {
  GenerateArgs,
  GenerateOutput,
  ExplainOutput,
  GenerateProgress,
  LoadedPackInfo,
  LoadPackArgs,
} from './api';
import { chooseVariant, memoryIsShort, slicesAttention, textEncoderMustGo } from '../shared/fit';
import { packAttentionBlocks } from '../shared/onnx/slice-attention';
import { modelBytes } from './pipelines/external-data';
import { heavySteps, warmsUp } from './warm-up';
import { defaultDecoder } from './decoder-choice';
import { DiskBytes } from '../store/disk-bytes';
import { createOrtSession, type OrtApi } from './ort-session';
import { loadRuntime, wasmThreads } from './ort-runtime';
import type { ModelSession } from './session';
import { openPack } from './pack-opener';
import { Pipeline, type GenerateResult, type LoadProgress } from './pipelines';
import { generateImage, type GenerateImageOptions } from './generate';
import { explainImage } from './explain/explain';
import { readPackFile } from './pipelines/open-model';
import { loadClipTokenizer, type ClipTokenizer } from './tokenizer';
import { countTokens, type TokenCount } from './tokenizer/count';

interface Loaded {
  key: string;
  pipeline: Pipeline;
  info: LoadedPackInfo;
}

export class PackSlot {
  private loaded: Loaded | null = null;
  private warming: { controller: AbortController; done: Promise<unknown> } | null = null;

  constructor(private readonly capabilities: () => Promise<Readonly<Capabilities>>) {}

  async load(
    args: LoadPackArgs,
    signal: AbortSignal,
    onProgress?: (progress: LoadProgress) => void,
  ): Promise<LoadedPackInfo> {
    const started = performance.now();
    const caps = await this.capabilities();
    const choice = chooseBackend(caps, args.preference ?? 'auto');
    const key = JSON.stringify([args.packId ?? null, choice.backend, args.variantId ?? null]);
    if (this.loaded?.key === key) {
      // A run comes next: the throwaway image would only hold it up.
      if (args.noWarmUp) await this.stopWarming();
      return this.loaded.info;
    }
    await this.unload();
    const phases: Record<string, number> = {};
    const weightsFromDisk: Record<string, number> = {};
    const timed = async <T>(name: string, work: Promise<T>): Promise<T> => {
      const start = performance.now();
      const value = await work;
      phases[name] = performance.now() - start;
      // Visible in DevTools' timeline and read by the first-image bench.
      performance.measure(`gesso load: ${name}`, { start });
      return value;
    };
    // The runtime's JavaScript loads while the pack is opened; its thread count waits for the pack.
    const opening = timed('open pack', openPack(args.packId, signal, args.installedOnly));
    const chosen = opening.then(({ manifest }) => {
      const variant = chooseVariant(manifest, choice.backend, caps, args.variantId);
      return { variant, heavy: heavySteps(modelBytes(manifest, variant.components.unet)) };
    });
    // A pack that cannot load here never starts the runtime (nor fetches its wasm).
    const threads = chosen.then(
      ({ heavy }) =>
        args.wasmThreads ?? wasmThreads(caps.hardwareConcurrency, caps.crossOriginIsolated, heavy),
    );
    const [source, { variant }, ort] = await Promise.all([
      opening,
      chosen,
      timed('runtime', loadRuntime(choice.backend, threads)),
    ]);
    signal.throwIfAborted();
    const deviceMemory = (navigator as { deviceMemory?: number }).deviceMemory;
    const releaseTextEncoder = textEncoderMustGo(variant, choice.backend);
    const keepTextOnDevice = choice.backend === 'webgpu' && !releaseTextEncoder;
    const latentsOnDevice = choice.backend === 'webgpu';
    const attentionBlocks =
      choice.backend === 'webgpu' && caps.webgpu && slicesAttention(variant, caps.webgpu)
        ? packAttentionBlocks(source.manifest)
        : 1;
    let loadTotal = 0;
    const pipeline = await Pipeline.load(source, {
      variant,
      releaseTextEncoder,
      tiledDecode: memoryIsShort(variant, choice.backend, deviceMemory),
      keepTextOnDevice,
      latentsOnDevice,
      attentionBlocks,
      signal,
      onProgress: (progress) => {
        loadTotal = progress.total;
        onProgress?.(progress);
      },
      factory: async (bytes, label, hints) => {
        // What onnxruntime reads, not the graph's walk before it.
        const readSoFar = () =>
          (hints?.externalData ?? [])
            .map((file) => (file.data instanceof DiskBytes ? file.data.bytesRead : 0))
            .reduce((a, b) => a + b, 0);
        const before = readSoFar();
        let session: ModelSession;
        try {
          session = await timed(
            label,
            createOrtSession(ort as unknown as OrtApi, bytes, label, {
              backend: choice.backend,
              deviceOutputs: hints?.deviceOutputs,
              externalData: hints?.externalData,
              freeDimensionOverrides: hints?.freeDimensionOverrides,
              consumeBytes: true,
            }),
          );
        } finally {
          for (const file of hints?.externalData ?? [])
            if (file.data instanceof DiskBytes) file.data.release();
        }
        const fromDisk = readSoFar() - before;
        if (fromDisk > 0) weightsFromDisk[label] = fromDisk;
        return session;
      },
    });
    const warm =
      !args.noWarmUp &&
      warmsUp(choice.backend, modelBytes(source.manifest, variant.components.unet));
    if (warm && choice.backend === 'webgpu') {
      // Part of the load, with its own status: the first run compiles every shader.
      const total = loadTotal;
      onProgress?.({ phase: 'warm-up', path: null, loaded: total, total });
      try {
        await timed('warm-up', pipeline.warmUp(signal));
      } catch (error) {
        await pipeline.release();
        throw error;
      }
      onProgress?.({ phase: 'ready', path: null, loaded: total, total });
    } else if (warm) {
      // On WebAssembly it is cheap and runs after the load: a press made meanwhile stops it.
      this.warmInBackground(pipeline);
    }
    const { manifest } = source;
    const info: LoadedPackInfo = {
      packId: manifest.id,
      name: manifest.name,
      version: manifest.version,
      pipeline: manifest.pipeline,
      variantId: variant.id,
      backend: choice.backend,
      backendReason: choice.reason,
      image: manifest.image,
      defaults: manifest.defaults,
      ranges: manifest.ranges,
      guidance: pipeline.guidanceKind,
      hasPreview: pipeline.hasPreview,
      hasImageEncoder: Boolean(variant.components.vaeEncoder),
      control: variant.components.controlNet ? (manifest.control ?? null) : null,
      memoryBytes: variant.requires.memoryBytes,
      releasesTextEncoder: releaseTextEncoder,
      tiledDecode: pipeline.decodesInTiles,
      textStatesOnGpu: keepTextOnDevice,
      attentionBlocks,
      decoders: {
        fast: pipeline.hasFastDecoder,
        default: defaultDecoder({
          backend: choice.backend,
          hasFast: pipeline.hasFastDecoder,
          fullDecoderBytes: modelBytes(manifest, variant.components.vaeDecoder),
        }),
      },
      loadMs: performance.now() - started,
      loadPhases: phases,
      weightsFromDisk,
    };
    this.loaded = { key, pipeline, info };
    performance.measure('gesso load', { start: started });
    return info;
  }

  async generate(
    args: GenerateArgs,
    signal: AbortSignal,
    onProgress: (progress: GenerateProgress) => void,
  ): Promise<GenerateOutput> {
    return (await this.runLoaded('generate', generateImage, args, signal, onProgress)).output;
  }

  /** `generate` in explain mode: the same image, plus a map per prompt word. */
  async explain(
    args: GenerateArgs,
    signal: AbortSignal,
    onProgress: (progress: GenerateProgress) => void,
  ): Promise<ExplainOutput> {
    const { output, result } = await this.runLoaded(
      'explain',
      explainImage,
      args,
      signal,
      onProgress,
    );
    return { ...output, explanation: result.explanation };
  }

  /** Runs `run` on the loaded pack (the demo pack if none is), reporting steps with previews. */
  private async runLoaded<R extends GenerateResult>(
    name: string,
    run: (pipeline: Pipeline, args: GenerateArgs, options: GenerateImageOptions) => Promise<R>,
    args: GenerateArgs,
    signal: AbortSignal,
    onProgress: (progress: GenerateProgress) => void,
  ): Promise<{ result: R; output: GenerateOutput }> {
    const started = performance.now();
    await this.stopWarming();
    if (!this.loaded) await this.load({}, signal);
    const { pipeline, info } = this.loaded!;
    const decoder = args.decoder ?? info.decoders.default;
    const result = await run(
      pipeline,
      { ...args, decoder },
      {
        signal,
        onStep: (step) =>
          onProgress({
            step: step.step,
            steps: step.steps,
            preview: step.step < step.steps ? step.preview : null,
          }),
      },
    );
    performance.measure(`gesso ${name}`, { start: started });
    if (result.recipe.decoder === 'full' && !result.tiledDecode && result.timings.decodeMs > 0)
      // What a full decode costs on this device decides the default from now on.
      info.decoders.default = defaultDecoder({
        backend: info.backend,
        hasFast: info.decoders.fast,
        fullDecoderBytes: 0,
        measuredFullMs: result.timings.decodeMs,
      });
    const output: GenerateOutput = {
      image: result.image,
      recipe: result.recipe,
      backend: info.backend,
      timings: result.timings,
      textStatesOnGpu: result.textStatesOnGpu,
      tiledDecode: result.tiledDecode,
      gpuReadsPerStep: result.gpuReadsPerStep,
    };
    return { result, output };
  }

  /** Tokenizers of packs not loaded, for counting prompt tokens (by packId; '' is the demo pack). */
  private readonly tokenizers = new Map<string, Promise<ClipTokenizer>>();

  /** How many tokens a prompt takes with a pack's tokenizer (the loaded pack's, else read on its own). */
  async countTokens(packId: string | undefined, text: string): Promise<TokenCount> {
    const loadedId = this.loaded && (JSON.parse(this.loaded.key) as unknown[])[0];
    if (this.loaded && loadedId === (packId ?? null))
      return countTokens(this.loaded.pipeline.tokenizer, text);
    const key = packId ?? '';
    let tokenizer = this.tokenizers.get(key);
    if (!tokenizer) {
      tokenizer = (async () => {
        const source = await openPack(packId);
        const { tokenizer: config } = source.manifest;
        const [vocab, merges] = await Promise.all(
          [config.vocab, config.merges].map((path) => readPackFile(source, path)),
        );
        const decode = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
        return loadClipTokenizer(decode(vocab), decode(merges), config, config.vocab);
      })();
      tokenizer.catch(() => this.tokenizers.delete(key));
      this.tokenizers.set(key, tokenizer);
    }
    return countTokens(await tokenizer, text);
  }

  /** The throwaway image of a WebAssembly load, run while nothing else is asked of the engine. */
  private warmInBackground(pipeline: Pipeline): void {
    const controller = new AbortController();
    const start = performance.now();
    // A macrotask later: a press already queued behind the load stops it before its first run.
    const done = new Promise((resolve) => setTimeout(resolve, 0))
      .then(() => pipeline.warmUp(controller.signal))
      .then(() => performance.measure('gesso load: warm-up', { start }))
      .catch(() => undefined); // aborted by a press, or the pack went: nothing to report
    this.warming = { controller, done };
  }

  /** Stops a background warm-up between its steps, and waits until its sessions are free. */
  private async stopWarming(): Promise<void> {
    const warming = this.warming;
    this.warming = null;
    if (!warming) return;
    warming.controller.abort();
    await warming.done;
  }

  async unload(): Promise<void> {
    await this.stopWarming();
    const loaded = this.loaded;
    this.loaded = null;
    await loaded?.pipeline.release();
  }
}
