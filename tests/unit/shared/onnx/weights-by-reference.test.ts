import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { DataLocation } from '../../../../src/shared/onnx/schema';
import { externalRef, walkModel } from '../../../../src/shared/onnx/walk';
import { fileChunks, weightsByReference } from '../../../../src/shared/onnx/weights-by-reference';
import { feeds } from './feeds';
import { ROOT, chunked } from './helpers';

const work = mkdtempSync(join(tmpdir(), 'gesso-by-reference-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const MODELS = [
  'tests/fixtures/models/sd-turbo/unet/model.onnx',
  'tests/fixtures/models/sd-turbo/unet/model.fp16.onnx',
  'tests/fixtures/models/sd-turbo/text_encoder/model.onnx',
  'tests/fixtures/models/sd-turbo/vae_decoder/model.fp16.onnx',
  'tests/fixtures/models/lcm/unet/model.external.onnx',
  'public/packs/demo/unet/model.fp32.onnx',
  'public/packs/demo/text_encoder/model.int8.onnx',
];

async function outputs(path: string): Promise<Record<string, unknown[]>> {
  const session = await ort.InferenceSession.create(path, {
    intraOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  try {
    // Channel counts are symbolic in some fixtures: 4, as the models have.
    const result = await session.run(feeds(session, (d) => (/channel/.test(d) ? 4 : 2)));
    return Object.fromEntries(
      Object.entries(result).map(([name, t]) => [name, Array.from(t.data as ArrayLike<unknown>)]),
    );
  } finally {
    await session.release();
  }
}

/** The original beside its by-reference graph, as onnxruntime would find them: the graph names the original by its file name. */
function saveBeside(original: string, graph: Uint8Array): string {
  const dir = mkdtempSync(join(work, 'model-'));
  copyFileSync(original, join(dir, basename(original)));
  for (const suffix of ['_data', '.data'])
    try {
      copyFileSync(`${original}${suffix}`, join(dir, `${basename(original)}${suffix}`));
    } catch {
      // no such external-data file
    }
  writeFileSync(join(dir, 'graph.onnx'), graph);
  return join(dir, 'graph.onnx');
}

describe('weightsByReference', () => {
  for (const model of MODELS)
    it(`${model}: the graph alone, weights read from the file, computes the same`, async () => {
      const path = join(ROOT, model);
      const file = new Uint8Array(readFileSync(path));
      let read = 0;
      const view = {
        byteLength: file.byteLength,
        subarray(start: number, end: number) {
          read += end - start;
          return file.slice(start, end);
        },
      };
      const minBytes = 1024;
      const seeking = await weightsByReference(fileChunks(view, 4096), basename(path), {
        minBytes,
      });
      // The same from a plain stream that cannot seek.
      const streamed = await weightsByReference(chunked(file, 10_000), basename(path), {
        minBytes,
      });
      expect(streamed.graph).toEqual(seeking.graph);

      const refs: { offset: number; length: number }[] = [];
      let inline = 0;
      for await (const event of walkModel([seeking.graph])) {
        if (event.kind !== 'initializer') continue;
        const ref = externalRef(event.tensor);
        if (ref?.location === basename(path))
          refs.push({ offset: ref.offset, length: ref.length! });
        else if (event.tensor.dataLocation !== DataLocation.EXTERNAL)
          inline = Math.max(inline, event.payload?.length ?? 0);
      }
      expect(refs.length).toBe(seeking.weights);
      expect(refs.reduce((n, r) => n + r.length, 0)).toBe(seeking.weightBytes);
      expect(inline).toBeLessThan(minBytes);
      if (model.includes('external')) {
        expect(seeking.weights).toBe(0); // its weights were in model.onnx_data already
      } else {
        expect(seeking.weights).toBeGreaterThan(0);
        // The graph is what is left, plus each weight's reference (location, offset, length: under 100 bytes).
        expect(seeking.graph.byteLength).toBeLessThan(
          file.byteLength - seeking.weightBytes + refs.length * 100,
        );
        // The weights were skipped, not read: at most a window past each one's header.
        expect(read).toBeLessThan(
          file.byteLength - seeking.weightBytes + refs.length * 4096 + 4096,
        );
      }
      expect(await outputs(saveBeside(path, seeking.graph))).toEqual(await outputs(path));
    });
});
