/**
 * An explain run: the same generation (same recipe, same image) with a UNet
 * copy whose graph also outputs its cross-attention probabilities, recorded
 * per prompt at every step and turned into one map per word. The copy is
 * opened for the run and released after it, so normal generation pays
 * nothing and memory goes back; a big UNet is released while its copy runs
 * (Pipeline.withUnetCopy), so it is never in memory twice.
 */

import { GessoError } from '../../shared/errors';
import type { Explanation, PromptExplanation } from '../../shared/explanation';
import { findAttention, withExtraOutputs } from '../../shared/onnx/attention-outputs';
import { activeRegions, decodeLayout } from '../../shared/regions/layout';
import { regionWeights } from '../../shared/regions/masks';
import { generateImage, type GenerateImageOptions } from '../generate';
import type { GenerateRequest, GenerateResult, Pipeline } from '../pipelines';
import { unetTextInput } from '../pipelines/unet';
import { isDeviceTensor, type ModelSession, type Value } from '../session';
import { toFloat32 } from '../tensors';
import { AttentionAccumulator, wordMaps, type PromptWord } from './attention-maps';

export interface ExplainResult extends GenerateResult {
  explanation: Explanation;
}

export interface ExplainOptions extends GenerateImageOptions {
  /** UNet files above this take turns with the copy instead of staying open beside it (default 256 MiB). */
  unetCopyAlongsideMaxBytes?: number;
}

interface Watched {
  label: string;
  prompt: string;
  words: PromptWord[];
  hidden: Value;
  values: Float32Array | null;
  /** Where this prompt's prediction is used (regions), on the latent grid; null: everywhere. */
  weight: Float32Array | null;
  maps: AttentionAccumulator;
}

/** Multiplies every token's plane ([tokens, h*w]) by the prompt's weight (h*w), in place. */
function weighted(planes: Float32Array, weight: Float32Array): void {
  for (let i = 0; i < planes.length; i++) planes[i]! *= weight[i % weight.length]!;
}

export async function explainImage(
  pipeline: Pipeline,
  request: GenerateRequest,
  options: ExplainOptions = {},
): Promise<ExplainResult> {
  if (request.outline)
    // The outline swaps in the ControlNet's UNet, which has no attention copy to record from.
    throw new GessoError(
      'explain-unavailable',
      'Explain does not work yet for a picture that followed an outline. Generate it without the outline to see which word painted where.',
    );
  const [, , height, width] = pipeline.latentDims(request) as [number, number, number, number];
  const layout = request.regions ? decodeLayout(request.regions) : null;
  // With regions, a prompt's prediction counts only where its weight is (the
  // combiner's masks): where a word acted is its attention times that weight.
  const regional =
    layout && activeRegions(layout).length > 0
      ? regionWeights(
          layout,
          {
            width: width * pipeline.manifest.latent.downscale,
            height: height * pipeline.manifest.latent.downscale,
          },
          pipeline.manifest.latent.downscale,
        )
      : null;
  const prompts = [
    { label: 'Prompt', prompt: request.prompt, weight: regional?.weights[0] ?? null },
    ...(regional?.regions.map((r, k) => ({
      label: r.name,
      prompt: r.prompt,
      weight: regional.weights[k + 1] ?? null,
    })) ?? []),
  ];
  const watched: Watched[] = [];
  for (const { label, prompt, weight } of prompts) {
    const words = pipeline.tokenizer.words(prompt);
    if (words.length === 0) continue;
    const { hidden } = await pipeline.encodePrompt(prompt, options.signal);
    const values = isDeviceTensor(hidden) ? null : toFloat32(hidden);
    watched.push({
      label,
      prompt,
      words,
      hidden,
      values,
      weight,
      maps: new AttentionAccumulator(height, width),
    });
  }

  let attention: string[] = [];
  const result = await pipeline.withUnetCopy(
    {
      rewrite: async (model) => {
        const found = await findAttention(model);
        if (found.crossAttention.length === 0)
          throw new GessoError(
            'explain-unavailable',
            found.fused
              ? 'This pack computes attention in fused operators, so Gesso cannot show which word painted where for it.'
              : 'This pack’s image model has no cross-attention Gesso can read, so explanations are not available for it.',
          );
        attention = found.crossAttention;
        return withExtraOutputs(model, attention);
      },
      wrap: (session) =>
        recordingUnet(session, new Set(attention), unetTextInput(session).name, watched),
      label: 'image model (UNet) with attention',
      ...(options.unetCopyAlongsideMaxBytes !== undefined
        ? { alongsideMaxBytes: options.unetCopyAlongsideMaxBytes }
        : {}),
    },
    () => generateImage(pipeline, request, options),
    options.signal,
  );
  const image = { height: result.recipe.height, width: result.recipe.width };
  const explained: PromptExplanation[] = watched.map(({ label, prompt, words, maps, weight }) => {
    const mean = maps.mean();
    if (mean && weight) weighted(mean, weight);
    return {
      label,
      prompt,
      words: mean
        ? wordMaps(mean, maps, words, image).map(({ word, map }) => ({
            word,
            map: Uint8Array.from(map, (v) => Math.round(v * 255)),
          }))
        : [],
    };
  });
  return { ...result, explanation: { ...image, prompts: explained } };
}

/**
 * The UNet as the pipeline sees it (same inputs, same outputs), recording
 * each run's attention for every batch item whose text states are one of
 * the watched prompts' (unconditional runs are not watched).
 */
function recordingUnet(
  session: ModelSession,
  attention: ReadonlySet<string>,
  textName: string,
  watched: readonly Watched[],
): ModelSession {
  return {
    label: session.label,
    inputs: session.inputs,
    outputs: session.outputs.filter((o) => !attention.has(o.name)),
    async run(feeds) {
      const outputs = await session.run(feeds);
      const text = feeds[textName]!;
      const batch = text.dims[0] ?? 1;
      const owners = batchOwners(text, batch, watched);
      for (const name of attention) {
        const probs = outputs[name];
        delete outputs[name];
        if (!probs || isDeviceTensor(probs)) continue;
        const data = toFloat32(probs);
        owners.forEach((owner, item) => owner?.maps.add({ data, dims: probs.dims }, batch, item));
      }
      return outputs;
    },
    release: () => session.release(),
  };
}

/** For each batch item of the text states, the watched prompt they are, or null. */
function batchOwners(text: Value, batch: number, watched: readonly Watched[]): (Watched | null)[] {
  if (isDeviceTensor(text)) return [watched.find((w) => w.hidden === text) ?? null];
  const values = toFloat32(text);
  const size = values.length / batch;
  return Array.from({ length: batch }, (_, item) => {
    const states = values.subarray(item * size, (item + 1) * size);
    return watched.find((w) => w.values !== null && sameStates(w.values, states)) ?? null;
  });
}

/** Equal text states, allowing for a float16 round trip (the UNet may take float16). */
function sameStates(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (Math.abs(a[i]! - b[i]!) > 1e-3 * Math.max(1, Math.abs(a[i]!))) return false;
  return true;
}
