/**
 * One image with the latents kept on the GPU: the step graph's session for
 * the UNet's and decoders' dtypes, the UNet fed from the GPU (device-loop.ts),
 * and the final decode from the GPU, the only read besides previews.
 */

import type { PackManifest } from '../../shared/pack-manifest';
import type { StageTimings } from '../../shared/recipe';
import type { Random } from '../../shared/random';
import type { RgbaImage } from '../../shared/rgba';
import { throwIfAborted, yieldToEvents } from '../abort';
import type { Scheduler } from '../schedulers';
import { inputOr, isDeviceTensor, outputOr, type ModelSession, type Value } from '../session';
import type { DType } from '../tensors';
import { decodeOnDevice, type Decoder } from './decode';
import { denoiseOnDevice } from './device-loop';
import type { DeviceSessions } from './device-sessions';
import { asDType } from './dtype';
import { UNET_OUTPUT } from './load';
import type { Conditioning, GenerateOptions } from './types';
import { unetFeeds, unetTextInput } from './unet';

export interface DeviceImageRun {
  unet: ModelSession;
  manifest: PackManifest;
  device: DeviceSessions;
  /** A conditioning's text states in `type` (Pipeline.hiddenFor). */
  textStates: (conditioning: Conditioning, type: DType) => Value;
  /** The final image's decoder (the VAE, or the fast one). */
  final: Decoder;
  /** The preview decoder, or null: no previews. */
  preview: Decoder | null;
  /** Whose input the step graph's preview output is typed and scaled for (the preview decoder, else the VAE). */
  previewInputOf: Decoder;
  scheduler: Scheduler;
  latents: Float32Array;
  dims: number[];
  random: Random;
  conditioning: Conditioning;
  unconditional: Conditioning | null;
  guidance: number;
  timings: StageTimings;
  signal?: AbortSignal;
  onStep?: GenerateOptions['onStep'];
}

export async function imageOnDevice(
  run: DeviceImageRun,
): Promise<{ image: RgbaImage; readsPerStep: number[] }> {
  const { unet, manifest, preview } = run;
  const textType = asDType(unetTextInput(unet).type, 'text states');
  const output = outputOr(unet, UNET_OUTPUT);
  const inputType = (decoder: Decoder) =>
    asDType(inputOr(decoder.session, 'latent_sample').type, 'decoder input');
  const step = await run.device.step(
    {
      eps: asDType(output.type, 'noise prediction'),
      unetInput: asDType(inputOr(unet, 'sample', 0).type, 'latent input'),
      finalInput: inputType(run.final),
      previewInput: inputType(run.previewInputOf),
    },
    run.unconditional !== null,
  );
  const predictOne = async (input: Value, timestep: number, conditioning: Conditioning) => {
    const feeds = unetFeeds(unet, manifest, {
      sample: input,
      dims: run.dims,
      timestep,
      text: run.textStates(conditioning, textType),
      guidance: run.guidance,
    });
    return (await unet.run(feeds))[output.name]!;
  };
  const { decoderInput, readsPerStep } = await denoiseOnDevice({
    scheduler: run.scheduler,
    latents: run.latents,
    dims: run.dims,
    random: run.random,
    step,
    guidance: run.guidance,
    finalScale: run.final.latentScale,
    previewScale: run.previewInputOf.latentScale,
    predict: async (input, context) => ({
      eps: await predictOne(input, context.timestep, run.conditioning),
      ...(run.unconditional
        ? { epsUncond: await predictOne(input, context.timestep, run.unconditional) }
        : {}),
    }),
    preview: preview ? (input) => decodeOnDevice(preview, input) : null,
    timings: run.timings,
    ...(run.signal ? { signal: run.signal } : {}),
    ...(run.onStep ? { onStep: run.onStep } : {}),
  });
  try {
    await yieldToEvents();
    throwIfAborted(run.signal);
    const t = performance.now();
    const image = await decodeOnDevice(run.final, decoderInput);
    run.timings.decodeMs = performance.now() - t;
    return { image, readsPerStep };
  } finally {
    if (isDeviceTensor(decoderInput)) decoderInput.dispose();
  }
}
