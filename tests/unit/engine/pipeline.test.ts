import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../../src/engine/pipelines';
import type { LoadProgress, StepProgress } from '../../../src/engine/pipelines';
import type { ModelSession, SessionFactory, Value } from '../../../src/engine/session';
import { GessoError } from '../../../src/shared/errors';
import type { PackManifest } from '../../../src/shared/pack-manifest';
import { fixturePack, nodeFactory } from './helpers/node-packs';

function variantOf(manifest: PackManifest, id: string) {
  const variant = manifest.variants.find((v) => v.id === id);
  if (!variant) throw new Error(`no variant ${id}`);
  return variant;
}

/** Wraps a factory to record every feed each session receives. */
function recording(factory: SessionFactory) {
  const feeds: { label: string; feeds: Record<string, Value> }[] = [];
  const released: string[] = [];
  const wrapped: SessionFactory = async (bytes, label, hints) => {
    const session = await factory(bytes, label, hints);
    const spy: ModelSession = {
      inputs: session.inputs,
      outputs: session.outputs,
      run: (input) => {
        feeds.push({ label, feeds: input });
        return session.run(input);
      },
      release: () => {
        released.push(label);
        return session.release();
      },
    };
    return spy;
  };
  return { factory: wrapped, feeds, released };
}

async function load(
  name: 'sd-turbo' | 'lcm',
  variantId: string,
  factory: SessionFactory = nodeFactory,
  patch?: (m: PackManifest) => PackManifest,
) {
  const source = fixturePack(name, patch);
  return Pipeline.load(source, { factory, variant: variantOf(source.manifest, variantId) });
}

describe('SD-Turbo pipeline (fixture graphs, onnxruntime-node)', () => {
  it('feeds int32 ids, int64 timestep 999 and sigma-scaled latents for one step', async () => {
    const rec = recording(nodeFactory);
    const pipeline = await load('sd-turbo', 'fp32', rec.factory);
    const result = await pipeline.generate({ prompt: 'red heart', steps: 1, guidance: 1, seed: 1 });
    expect(result.image.width).toBe(64);
    expect(result.image.height).toBe(64);
    expect(result.image.data).toHaveLength(64 * 64 * 4);
    const text = rec.feeds.find((f) => f.label === 'text encoder')!.feeds.input_ids!;
    expect(text.type).toBe('int32');
    expect(text.dims).toEqual([1, 77]);
    const unetFeeds = rec.feeds.filter((f) => f.label === 'image model (UNet)');
    expect(unetFeeds).toHaveLength(1);
    const { sample, timestep } = unetFeeds[0]!.feeds;
    expect(timestep!.type).toBe('int64');
    expect(timestep!.dims).toEqual([1]);
    expect('data' in timestep! && timestep.data[0]).toBe(999n);
    expect(sample!.dims).toEqual([1, 4, 8, 8]);
    // N(0,1) * sigma_max / sqrt(sigma_max^2 + 1): unit-variance UNet input.
    const values = 'data' in sample! ? Array.from(sample.data as Float32Array) : [];
    const variance = values.reduce((s, v) => s + v * v, 0) / values.length;
    expect(variance).toBeGreaterThan(0.6);
    expect(variance).toBeLessThan(1.5);
    await pipeline.release();
  });

  it('gives the same pixels for the same seed and different ones for another seed', async () => {
    const pipeline = await load('sd-turbo', 'fp32');
    const a = await pipeline.generate({ prompt: 'cat', steps: 2, guidance: 1, seed: 7 });
    const b = await pipeline.generate({ prompt: 'cat', steps: 2, guidance: 1, seed: 7 });
    const c = await pipeline.generate({ prompt: 'cat', steps: 2, guidance: 1, seed: 8 });
    expect(b.image.data).toEqual(a.image.data);
    expect(c.image.data).not.toEqual(a.image.data);
    await pipeline.release();
  });

  it('runs the float16-I/O export (sample and timestep float16) close to the float32 one', async () => {
    const rec = recording(nodeFactory);
    const fp16 = await load('sd-turbo', 'fp16', rec.factory);
    const fp32 = await load('sd-turbo', 'fp32');
    // Tolerance: fp16 I/O rounds the UNet input and output to ~5e-4 relative. One step computes
    // x0 = x - sigma * eps with sigma = 14.6 and eps ~ x / 14.6, a cancellation that turns that into
    // ~1e-2 in the decoder input: measured mean 0.30 and worst 21 levels of 255. With 4 steps sigma
    // is smaller at the end: measured mean 0.04, worst 2. Bounds: about twice the measurement.
    const bounds = { 1: { mean: 0.6, worst: 40 }, 4: { mean: 0.1, worst: 4 } } as const;
    for (const steps of [1, 4] as const) {
      const request = { prompt: 'red heart', steps, guidance: 1, seed: 3 };
      const [half, full] = [await fp16.generate(request), await fp32.generate(request)];
      let sum = 0;
      let worst = 0;
      for (let i = 0; i < half.image.data.length; i++) {
        const d = Math.abs(half.image.data[i]! - full.image.data[i]!);
        sum += d;
        worst = Math.max(worst, d);
      }
      expect(sum / half.image.data.length).toBeLessThan(bounds[steps].mean);
      expect(worst).toBeLessThanOrEqual(bounds[steps].worst);
    }
    const unetFeeds = rec.feeds.filter((f) => f.label === 'image model (UNet)').slice(1);
    expect(unetFeeds.map((f) => f.feeds.timestep!.type)).toEqual([
      'float16',
      'float16',
      'float16',
      'float16',
    ]);
    expect(
      unetFeeds.map((f) => ('data' in f.feeds.timestep! ? f.feeds.timestep.data[0] : 0)),
    ).toEqual([0x63ce, 0x61da, 0x5fcc, 0x5bc8]); // 999, 749, 499, 249 as halves
    expect(unetFeeds[0]!.feeds.sample!.type).toBe('float16');
    expect(unetFeeds[0]!.feeds.encoder_hidden_states!.type).toBe('float16');
    await Promise.all([fp16.release(), fp32.release()]);
  });
});

describe('LCM pipeline', () => {
  it('feeds timestep_cond from guidance and the LCM timesteps, int64 or float by metadata', async () => {
    for (const [variant, type] of [
      ['int64', 'int64'],
      ['float', 'float32'],
    ] as const) {
      const rec = recording(nodeFactory);
      const pipeline = await load('lcm', variant, rec.factory);
      await pipeline.generate({ prompt: 'cat', steps: 4, guidance: 8.5, seed: 1, preview: false });
      const unetFeeds = rec.feeds
        .filter((f) => f.label === 'image model (UNet)')
        .map((f) => f.feeds);
      expect(unetFeeds.map((f) => f.timestep!.type)).toEqual([type, type, type, type]);
      expect(
        unetFeeds.map((f) => ('data' in f.timestep! ? Number(f.timestep.data[0]) : NaN)),
      ).toEqual([999, 759, 499, 259]);
      const cond = unetFeeds[0]!.timestep_cond!;
      expect(cond.dims).toEqual([1, 256]);
      expect('data' in cond && cond.data[0]).toBeCloseTo(Math.sin(7500), 4);
      await pipeline.release();
    }
  });

  it('decodes a preview after every step but the last with the TAESD-style decoder', async () => {
    const rec = recording(nodeFactory);
    const pipeline = await load('lcm', 'int64', rec.factory);
    const progress: StepProgress[] = [];
    const result = await pipeline.generate(
      { prompt: 'cat', steps: 3, guidance: 8, seed: 2 },
      { onStep: (p) => progress.push(p) },
    );
    expect(progress.map((p) => `${p.step}/${p.steps}`)).toEqual(['1/3', '2/3', '3/3']);
    expect(progress.slice(0, 2).every((p) => p.preview?.width === 64)).toBe(true);
    expect(progress[2]!.preview).toBe(result.image);
    expect(rec.feeds.filter((f) => f.label === 'preview decoder')).toHaveLength(2);
    expect(rec.feeds.filter((f) => f.label === 'image decoder')).toHaveLength(1);
    await pipeline.release();
  });

  it('runs as the "demo" pipeline with the pack scheduler and reuses the prompt encoding', async () => {
    const rec = recording(nodeFactory);
    const pipeline = await load('lcm', 'int64', rec.factory, (m) => ({
      ...m,
      pipeline: 'demo',
      latent: { ...m.latent, scalingFactor: 1 },
    }));
    await pipeline.generate({ prompt: 'cat', steps: 2, guidance: 4, seed: 1 });
    await pipeline.generate({ prompt: 'cat', steps: 2, guidance: 4, seed: 2 });
    expect(rec.feeds.filter((f) => f.label === 'text encoder')).toHaveLength(1);
    const timesteps = rec.feeds
      .filter((f) => f.label === 'image model (UNet)')
      .map((f) => ('data' in f.feeds.timestep! ? Number(f.feeds.timestep.data[0]) : NaN));
    expect(timesteps).toEqual([999, 499, 999, 499]);
    await pipeline.release();
  });

  it('stops before the next step when aborted and keeps the model usable', async () => {
    const pipeline = await load('lcm', 'int64');
    const controller = new AbortController();
    const seen: number[] = [];
    const run = pipeline.generate(
      { prompt: 'cat', steps: 4, guidance: 8, seed: 1 },
      {
        signal: controller.signal,
        onStep: (p) => {
          seen.push(p.step);
          if (p.step === 1) controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'aborted' });
    expect(seen).toEqual([1]);
    const again = await pipeline.generate({ prompt: 'cat', steps: 1, guidance: 8, seed: 1 });
    expect(again.image.width).toBe(64);
    await pipeline.release();
  });

  it('lets a wrapper replace the per-step prediction (regional prompting hook)', async () => {
    const pipeline = await load('lcm', 'int64');
    const calls: number[] = [];
    const zero = await pipeline.generate(
      { prompt: 'cat', steps: 2, guidance: 8, seed: 1, preview: false },
      {
        predictor: async (input, context) => (
          calls.push(context.timestep),
          new Float32Array(input.length)
        ),
      },
    );
    const normal = await pipeline.generate({
      prompt: 'cat',
      steps: 2,
      guidance: 8,
      seed: 1,
      preview: false,
    });
    expect(calls).toEqual([999, 499]);
    expect(zero.image.data).not.toEqual(normal.image.data);
    await pipeline.release();
  });

  it('reports load progress that never goes down and ends at the total', async () => {
    const source = fixturePack('lcm');
    const events: LoadProgress[] = [];
    const pipeline = await Pipeline.load(source, {
      factory: nodeFactory,
      variant: variantOf(source.manifest, 'int64'),
      onProgress: (p) => events.push(p),
    });
    for (let i = 1; i < events.length; i++)
      expect(events[i]!.loaded).toBeGreaterThanOrEqual(events[i - 1]!.loaded);
    expect(events.at(-1)).toMatchObject({ phase: 'ready', loaded: events.at(-1)!.total });
    expect(events.at(-1)!.total).toBeGreaterThan(0);
    await pipeline.release();
  });

  it('can release the text encoder after encoding and re-open it for a new prompt', async () => {
    const rec = recording(nodeFactory);
    const source = fixturePack('lcm');
    const pipeline = await Pipeline.load(source, {
      factory: rec.factory,
      variant: variantOf(source.manifest, 'int64'),
      releaseTextEncoder: true,
    });
    await pipeline.generate({ prompt: 'cat', steps: 1, guidance: 8, seed: 1 });
    expect(rec.released).toEqual(['text encoder']);
    await pipeline.generate({ prompt: 'dog', steps: 1, guidance: 8, seed: 1 });
    expect(rec.released).toEqual(['text encoder', 'text encoder']);
    await pipeline.release();
  });

  it('turns a damaged model file into a pack-corrupt error', async () => {
    const source = fixturePack('lcm');
    const broken = {
      ...source,
      read: async (path: string) =>
        path.endsWith('.onnx') ? new Uint8Array([1, 2, 3, 4]) : source.read(path),
    };
    const error = await Pipeline.load(broken, {
      factory: nodeFactory,
      variant: variantOf(source.manifest, 'int64'),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GessoError);
    expect((error as GessoError).code).toBe('pack-corrupt');
  });
});

describe('components opened on demand', () => {
  it('opens a new caller-owned session for a component, or null when the variant has none', async () => {
    const rec = recording(nodeFactory);
    const source = fixturePack('lcm', (m) => ({
      ...m,
      variants: m.variants.map((v) => ({
        ...v,
        components: { ...v.components, vaeEncoder: 'unet/model.float.onnx' },
      })),
    }));
    const pipeline = await Pipeline.load(source, {
      factory: rec.factory,
      variant: variantOf(source.manifest, 'int64'),
    });
    const reads = source.reads.length;
    const encoder = await pipeline.openComponent('vaeEncoder', 'image encoder');
    expect(encoder?.inputs.map((i) => i.name)).toContain('timestep_cond');
    expect(source.reads.slice(reads)).toEqual(['unet/model.float.onnx']);
    await encoder!.release();
    // Releasing it leaves the pipeline working.
    const result = await pipeline.generate({ prompt: 'cat', steps: 1, guidance: 8, seed: 1 });
    expect(result.image.width).toBe(64);
    await pipeline.release();

    const turboSource = fixturePack('sd-turbo');
    const turbo = await Pipeline.load(turboSource, {
      factory: nodeFactory,
      variant: variantOf(turboSource.manifest, 'fp32'),
    });
    expect(await turbo.openComponent('vaeEncoder', 'image encoder')).toBeNull();
    await turbo.release();
  });
});
