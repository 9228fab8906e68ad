/**
 * Loading a pack variant: the tokenizer files, then each model's session,
 * with progress in bytes (each model counts twice, once read and once
 * started; external data once, read). Anything opened is released if a
 * later step fails.
 */

import type { PackManifest, PackVariant } from '../../shared/pack-manifest';
import type { PackSource } from '../../shared/pack-source';
import { throwIfAborted } from '../abort';
import type { ExternalData, ModelSession, SessionFactory, SessionHints } from '../session';
import { loadClipTokenizer, type ClipTokenizer } from '../tokenizer';
import type { Decoder } from './decode';
import type { DecodeTile } from './decode-tiles';
import { externalDataPaths, modelBytes } from './external-data';
import { freeDimensions, latentSize } from '../../shared/free-dimensions';
import { readModel as readModelFiles, readPackFile } from './open-model';
import { withSlicedAttention } from '../../shared/onnx/slice-model';

export interface LoadProgress {
  /**
   * What is happening: reading a file, compiling a model into a session, or
   * (WebGPU) one throwaway run so every shader is compiled before the first
   * press (PackSlot's warm-up; `loaded` stays at `total`).
   */
  phase: 'read' | 'start' | 'warm-up' | 'ready';
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
  /** Decode the final image in overlapping tiles (memory is short; see DECODE_TILE_SIZE). */
  tiledDecode?: boolean;
  /** Try to keep text states on the GPU between steps (WebGPU factories honour it). */
  keepTextOnDevice?: boolean;
  /**
   * Keep the latents and noise predictions on the GPU through the whole loop
   * (WebGPU factories honour it): the UNet's prediction stays in a GPU buffer
   * and the step runs there too (device-loop.ts).
   */
  latentsOnDevice?: boolean;
  /**
   * Run the UNet's self-attention in this many row blocks (slice-attention.ts):
   * WebGPU loads ask for it where the adapter cannot bind the whole score
   * tensor (fit.ts slicesAttention). 1 or absent: attention stays whole.
   */
  attentionBlocks?: number;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

export interface LoadedModels {
  tokenizer: ClipTokenizer;
  textEncoder: ModelSession;
  unet: ModelSession;
  decoder: Decoder;
  previewDecoder: Decoder | null;
}

/** The UNet's noise-prediction output as diffusers' exports (and Gesso's own) name it. */
export const UNET_OUTPUT = 'out_sample';

/** A VAE this small is cheap enough to decode a preview after every step. */
const PREVIEW_WITH_VAE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The tile a short-memory decode runs in. A real SD VAE decoder needs about
 * 920 MiB of working memory for a 512x512 image's 64x64 latents on the CPU,
 * and the wasm heap never shrinks; a 36x36 tile needs a third of that, and
 * with 8 cells of overlap to hide the seams a 512x512 image takes 2x2 tiles,
 * 1.27 times the whole decode's work (32x32 tiles would take 3x3, 2.25 times).
 */
export const DECODE_TILE_SIZE = 36;
export const DECODE_TILE_OVERLAP = 8;

/** The decode tile when `options` ask for it and it helps: latents larger than a tile, not smaller on either side. */
function decodeTile(manifest: PackManifest, options: LoadOptions): DecodeTile | null {
  if (!options.tiledDecode) return null;
  const { height: h, width: w } = latentSize(manifest);
  const size = DECODE_TILE_SIZE;
  if (Math.min(h, w) < size || Math.max(h, w) <= size) return null;
  return { size, overlap: DECODE_TILE_OVERLAP };
}

function fileSize(manifest: PackManifest, path: string): number {
  return manifest.files.find((file) => file.path === path)?.size ?? 0;
}

export async function loadModels(source: PackSource, options: LoadOptions): Promise<LoadedModels> {
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
    throwIfAborted(signal);
    const bytes = await readPackFile(source, path, signal);
    report('read', path, fileSize(manifest, path));
    return bytes;
  };
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const [vocab, merges] = await Promise.all(tokenizerPaths.map(read));
  const tokenizer = loadClipTokenizer(
    text(vocab!),
    text(merges!),
    manifest.tokenizer,
    manifest.tokenizer.vocab,
  );

  const dims = freeDimensions(manifest);
  const sessions = new Map<string, ModelSession>();
  // Reading the next model overlaps compiling this one (the read is the
  // browser's work, compiling the worker's); one file ahead at most, so big
  // packs never hold more than two models' bytes at once.
  const reads = new Map<string, Promise<[Uint8Array, ExternalData[] | undefined]>>();
  const readModel = (path: string) => {
    let pending = reads.get(path);
    if (!pending) {
      pending = (async () => {
        throwIfAborted(signal);
        const model = await readModelFiles(source, path, signal);
        report('read', path, fileSize(manifest, path));
        return model;
      })();
      pending.catch(() => undefined); // awaited (and reported) by start()
      reads.set(path, pending);
    }
    return pending;
  };
  const start = async (path: string, label: string, hints?: SessionHints, next?: string) => {
    const existing = sessions.get(path);
    if (existing) return existing;
    const [read, externalData] = await readModel(path);
    reads.delete(path);
    const bytes =
      path === components.unet && (options.attentionBlocks ?? 1) > 1
        ? (await withSlicedAttention(read, options.attentionBlocks!)).model
        : read;
    for (const file of externalDataPaths(manifest, path))
      report('read', file, fileSize(manifest, file));
    throwIfAborted(signal);
    if (next && next !== path && !sessions.has(next)) void readModel(next);
    const session = await factory(bytes, label, { ...hints, externalData });
    sessions.set(path, session);
    report('start', path, fileSize(manifest, path));
    return session;
  };
  try {
    const keepText = Boolean(options.keepTextOnDevice) && !options.releaseTextEncoder;
    const separatePreview =
      components.previewDecoder !== components.vaeDecoder ? components.previewDecoder : undefined;
    const previewWithVae =
      !separatePreview &&
      (Boolean(components.previewDecoder) ||
        fileSize(manifest, components.vaeDecoder) <= PREVIEW_WITH_VAE_MAX_BYTES);
    // Previews decode whole latents after every step, so a VAE that also
    // previews keeps the pack's full size.
    const tile = previewWithVae ? null : decodeTile(manifest, options);
    const decoderDims = tile
      ? {
          freeDimensionOverrides: {
            ...dims.decoder.freeDimensionOverrides,
            height_latent: tile.size,
            width_latent: tile.size,
          },
        }
      : dims.decoder;
    const models: [path: string, label: string, hints: SessionHints][] = [
      [
        components.textEncoder,
        'text encoder',
        { ...dims.textEncoder, ...(keepText ? { deviceOutputs: ['last_hidden_state'] } : {}) },
      ],
      [
        components.unet,
        'image model (UNet)',
        { ...dims.unet, ...(options.latentsOnDevice ? { deviceOutputs: [UNET_OUTPUT] } : {}) },
      ],
      [components.vaeDecoder, 'image decoder', decoderDims],
      ...(separatePreview
        ? [[separatePreview, 'preview decoder', dims.decoder] as [string, string, SessionHints]]
        : []),
    ];
    // Largest first: while onnxruntime copies a model into its heap, the
    // model's bytes are in JavaScript too, so the biggest one (the UNet) is
    // best copied while the heap holds nothing else (SD-Turbo int8 on wasm:
    // the load's peak fell from +2,199 to +1,855 MiB over the idle app).
    const bySize = [...models].sort(
      (a, b) => modelBytes(manifest, b[0]) - modelBytes(manifest, a[0]),
    );
    for (const [i, [path, label, hints]] of bySize.entries())
      await start(path, label, hints, bySize[i + 1]?.[0]);
    const opened = (path: string) => sessions.get(path)!;
    const textEncoder = opened(components.textEncoder);
    const unet = opened(components.unet);
    const decoder: Decoder = {
      session: opened(components.vaeDecoder),
      latentScale: 1 / manifest.latent.scalingFactor,
      range: manifest.latent.decoderOutput,
      ...(tile ? { tile } : {}),
    };
    let previewDecoder: Decoder | null = null;
    if (separatePreview) {
      // A separate preview decoder is TAESD-style: UNet-space latents (scale 1).
      previewDecoder = {
        session: opened(separatePreview),
        latentScale: 1,
        range: manifest.latent.previewOutput ?? 'minus-one-to-one',
      };
    } else if (previewWithVae) {
      previewDecoder = decoder;
    }
    onProgress?.({ phase: 'ready', path: null, loaded: total, total });
    return { tokenizer, textEncoder, unet, decoder, previewDecoder };
  } catch (error) {
    await Promise.all([...sessions.values()].map((s) => s.release().catch(() => undefined)));
    throw error;
  }
}
