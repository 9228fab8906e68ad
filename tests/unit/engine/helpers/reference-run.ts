/**
 * The comparison both pipeline reference tests run (sd-turbo-reference and
 * lcm-reference): the real pipeline in onnxruntime-node on a fixture pack
 * against models/reference/pipeline.py's fixture, stage by stage.
 */

import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { Pipeline, type GenerateRequest } from '../../../../src/engine/pipelines';
import type { ModelSession, SessionFactory, Value } from '../../../../src/engine/session';
import { Random } from '../../../../src/shared/random';
import { fixturePack, nodeFactory } from './node-packs';

export interface ReferenceRun {
  name: string;
  request: GenerateRequest;
  /** img2img: UNet-space starting latents and the schedule strength. */
  init: { latents: number[]; strength: number } | null;
  variant: string;
  /** SHA-256 of each graph the reference ran (from the fixture manifest). */
  models: Record<string, string>;
  ids: number[];
  dims: number[];
  timesteps: number[];
  initialB64: string;
  ancestralB64: string[];
  steps: { t: number; epsB64: string; denoisedB64: string }[];
  imageDims: number[];
  imageB64: string;
  rgbaB64: string;
}

const f32 = (b64: string) => {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
};
const u8 = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

function maxAbs(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  return worst;
}

const data = (value: Value) =>
  'data' in value ? (value.data as Float32Array) : new Float32Array();

/** Records what the UNet and the final decoder return. */
function recording(factory: SessionFactory) {
  const unet: Float32Array[] = [];
  const decoded: Float32Array[] = [];
  const wrapped: SessionFactory = async (bytes, label, hints) => {
    const session = await factory(bytes, label, hints);
    const spy: ModelSession = {
      inputs: session.inputs,
      outputs: session.outputs,
      run: async (feeds) => {
        const out = await session.run(feeds);
        if (label === 'image model (UNet)') unet.push(data(out.out_sample!));
        if (label === 'image decoder') decoded.push(data(out.sample!));
        return out;
      },
      release: () => session.release(),
    };
    return spy;
  };
  return { factory: wrapped, unet, decoded };
}

const BOUNDS = { noise: 1e-6, eps: 1e-4, image: 1e-4, rgbaLevels: 1, rgbaFraction: 0.001 };

export async function compareWithReference(pack: 'sd-turbo' | 'lcm', run: ReferenceRun) {
  const source = fixturePack(pack);
  const variant = source.manifest.variants.find((v) => v.id === run.variant)!;
  // Made from these graphs: after models/fixtures/make_fixtures.py changes them, rerun models/reference/pipeline.py.
  for (const [path, sha256] of Object.entries(run.models))
    expect(source.manifest.files.find((f) => f.path === path)?.sha256, path).toBe(sha256);
  const rec = recording(nodeFactory);
  const pipeline = await Pipeline.load(source, { factory: rec.factory, variant });
  try {
    expect(Array.from(pipeline.tokenizer.encode(run.request.prompt))).toEqual(run.ids);
    expect(pipeline.latentDims(run.request)).toEqual(run.dims);

    // The engine's noise stream: the initial latents, then one draw per step but the last.
    const random = new Random(run.request.seed);
    const count = run.dims.reduce((a, b) => a * b, 1);
    const noise = Math.max(
      maxAbs(random.gaussians(count), f32(run.initialB64)),
      ...run.ancestralB64.map((z) => maxAbs(random.gaussians(count), f32(z))),
    );
    expect(noise).toBeLessThanOrEqual(BOUNDS.noise);

    const result = await pipeline.generate(
      { ...run.request, preview: false },
      run.init
        ? { init: { latents: Float32Array.from(run.init.latents), strength: run.init.strength } }
        : {},
    );
    expect(rec.unet).toHaveLength(run.steps.length);
    const eps = Math.max(...run.steps.map((s, i) => maxAbs(rec.unet[i]!, f32(s.epsB64))));
    expect(rec.decoded).toHaveLength(1);
    const image = maxAbs(rec.decoded[0]!, f32(run.imageB64));
    const rgba = u8(run.rgbaB64);
    let off = 0;
    let levels = 0;
    for (let i = 0; i < rgba.length; i++) {
      const d = Math.abs(result.image.data[i]! - rgba[i]!);
      if (d > 0) off++;
      levels = Math.max(levels, d);
    }
    console.log(
      `${pack} reference, ${run.name}: noise ${noise.toExponential(1)} (bound ${BOUNDS.noise}), ` +
        `UNet ${eps.toExponential(1)} (bound ${BOUNDS.eps}), image ${image.toExponential(1)} ` +
        `(bound ${BOUNDS.image}), RGBA ${off} bytes off, at most ${levels} level(s)`,
    );
    expect(eps).toBeLessThanOrEqual(BOUNDS.eps);
    expect(image).toBeLessThanOrEqual(BOUNDS.image);
    expect(result.image.width * result.image.height * 4).toBe(rgba.length);
    expect(levels).toBeLessThanOrEqual(BOUNDS.rgbaLevels);
    expect(off / rgba.length).toBeLessThanOrEqual(BOUNDS.rgbaFraction);
  } finally {
    await pipeline.release();
  }
}

/** The runs of a reference fixture (tests/fixtures/reference/<pack>.json). */
export function referenceRuns(path: string): ReferenceRun[] {
  return (JSON.parse(readFileSync(path, 'utf8')) as { runs: ReferenceRun[] }).runs;
}
