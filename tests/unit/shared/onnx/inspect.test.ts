/** inspect.ts's feed: summariseModel over chunks pushed as a download stores them. */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelSummaryFeed, summariseModel } from '../../../../src/shared/onnx/inspect';

const model = new Uint8Array(readFileSync('public/packs/demo/vae_decoder/model.int8.onnx'));
const dims = { batch_size: 1, num_channels_latent: 4, height_latent: 8, width_latent: 8 };
const pieces = (bytes: Uint8Array, size: number) =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
    bytes.subarray(i * size, (i + 1) * size),
  );

describe('ModelSummaryFeed', () => {
  it('gives what summariseModel gives on the whole file, however it is cut (each push awaited)', async () => {
    const whole = await summariseModel([model], dims);
    for (const size of [1000, 4096, 65536]) {
      const feed = new ModelSummaryFeed(dims);
      for (const piece of pieces(model, size)) await feed.push(piece);
      feed.end();
      expect(await feed.result).toEqual(whole);
    }
  });

  it('rejects when abandoned, and when the bytes are not a model, without holding the producer', async () => {
    const cut = new ModelSummaryFeed(dims);
    await cut.push(model.subarray(0, 5000));
    cut.abandon();
    await expect(cut.result).rejects.toThrow();
    await cut.push(model.subarray(5000, 6000)); // ignored, returns at once

    const junk = new ModelSummaryFeed(dims);
    const noise = new Uint8Array(50_000).map((_, i) => (i * 7919) % 251);
    for (const piece of pieces(noise, 1000)) await junk.push(piece);
    junk.end();
    await expect(junk.result).rejects.toThrow();
  });
});
