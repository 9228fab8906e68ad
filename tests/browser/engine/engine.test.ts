/**
 * The engine worker in Chromium (production build): same seed -> identical
 * pixels on wasm; WebGPU (SwiftShader) agrees with wasm within 2/255 per
 * channel and 0.05 on average; an fp16 variant is refused without shader-f16.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../helpers/browser';
import {
  FIXTURES,
  serveDistWithPack,
  startWorker,
  type EngineCall,
  type PackServer,
} from './serve';

let server: PackServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await serveDistWithPack({ packDir: `${FIXTURES}/lcm` });
  browser = await launchBrowser();
  page = await (await browser.newContext({ serviceWorkers: 'block' })).newPage();
  await page.goto(`${server.url}/test-blank.html`);
  await startWorker(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type Call = EngineCall;

/** Loads the pack on `preference` and generates; returns the pixels as a plain array. */
async function generateOn(
  preference: 'wasm' | 'webgpu',
  seed: number,
  extra: Record<string, unknown> = {},
) {
  return page.evaluate(
    async ({ preference, seed, extra }) => {
      const call = (globalThis as unknown as { engineCall: Call }).engineCall;
      const loaded = (await call('loadPack', { preference, ...extra })).result;
      const { result, progress } = await call('generate', {
        prompt: 'red heart',
        steps: 4,
        guidance: 8,
        seed,
      });
      return {
        loaded,
        backend: result.backend as string,
        textStatesOnGpu: result.textStatesOnGpu as boolean,
        pixels: Array.from(result.image.data as Uint8ClampedArray),
        steps: progress.map((p: { step: number; steps: number; preview: unknown }) => [
          p.step,
          p.steps,
          p.preview !== null,
        ]),
      };
    },
    { preference, seed, extra },
  );
}

describe('engine worker', () => {
  it('gives bit-identical pixels for the same seed on wasm, with previews after each step', async () => {
    const a = await generateOn('wasm', 42);
    const b = await generateOn('wasm', 42);
    const c = await generateOn('wasm', 43);
    expect(a.backend).toBe('wasm');
    expect(a.pixels).toHaveLength(64 * 64 * 4);
    expect(b.pixels).toEqual(a.pixels);
    expect(c.pixels).not.toEqual(a.pixels);
    expect(a.steps).toEqual([
      [1, 4, true],
      [2, 4, true],
      [3, 4, true],
      [4, 4, false],
    ]);
  });

  it('loads a UNet whose weights are ONNX external data (model.onnx + model.onnx_data)', async () => {
    const inline = await generateOn('wasm', 42, { variantId: 'int64' });
    const external = await generateOn('wasm', 42, { variantId: 'external' });
    expect(external.loaded.variantId).toBe('external');
    expect(external.pixels).toEqual(inline.pixels);
  });

  it('agrees between WebGPU (SwiftShader, text states kept on the GPU) and wasm within 2/255', async () => {
    const wasm = await generateOn('wasm', 5);
    const gpu = await generateOn('webgpu', 5);
    expect(gpu.backend).toBe('webgpu');
    expect(gpu.loaded.textStatesOnGpu).toBe(true);
    expect(gpu.textStatesOnGpu).toBe(true);
    expect(wasm.textStatesOnGpu).toBe(false);
    let worst = 0;
    let sum = 0;
    for (let i = 0; i < wasm.pixels.length; i++) {
      const d = Math.abs(wasm.pixels[i]! - gpu.pixels[i]!);
      worst = Math.max(worst, d);
      sum += d;
    }
    console.log(
      `generation: wasm vs WebGPU max |diff| ${worst}/255, mean ${(sum / wasm.pixels.length).toFixed(4)}`,
    );
    expect(worst).toBeLessThanOrEqual(2);
    expect(sum / wasm.pixels.length).toBeLessThan(0.05);
  });

  it('refuses the fp16 variant on a GPU without shader-f16, saying why', async () => {
    server.setPack({ packDir: `${FIXTURES}/sd-turbo` });
    const error = await page.evaluate(async () => {
      const call = (globalThis as unknown as { engineCall: Call }).engineCall;
      return call('loadPack', { preference: 'webgpu', variantId: 'fp16' }).then(
        () => null,
        (e: Error) => JSON.parse(e.message) as { code: string; message: string },
      );
    });
    server.setPack({ packDir: `${FIXTURES}/lcm` });
    expect(error?.code).toBe('does-not-fit');
    expect(error?.message).toMatch(/shader-f16/);
  });
});
