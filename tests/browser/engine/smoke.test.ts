/**
 * smoke.onnx (conv + single-head attention, tests/fixtures/models) through the
 * engine worker's runModel on WebAssembly and on WebGPU (SwiftShader here):
 * the outputs agree within 1e-4 absolute (float32 maths; the documented
 * agreement on this machine is ~1e-7).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../helpers/browser';
import type { StaticServer } from '../../helpers/static-server';
import { FIXTURES, serveDistWithPack, startWorker, type EngineCall } from './serve';

let server: StaticServer;
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

describe('smoke model on both backends', () => {
  it('runs on wasm and WebGPU with equal outputs (|diff| < 1e-4)', async () => {
    const outcome = await page.evaluate(async () => {
      const call = (globalThis as unknown as { engineCall: EngineCall }).engineCall;
      const model = await (await fetch('/test-fixtures/smoke.onnx')).arrayBuffer();
      const x = new Float32Array(3 * 8 * 8).map((_, i) => Math.sin(i * 0.37));
      const run = async (backend: string) =>
        (
          await call('runModel', {
            model: model.slice(0),
            backend,
            feeds: { x: { dims: [1, 3, 8, 8], data: x } },
          })
        ).result;
      const wasm = await run('wasm');
      const gpu = await run('webgpu');
      const a = wasm.outputs.y.data as Float32Array;
      const b = gpu.outputs.y.data as Float32Array;
      let worst = 0;
      let spread = 0;
      for (let i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        spread = Math.max(spread, Math.abs(a[i]!));
      }
      return {
        backends: [wasm.backend, gpu.backend],
        dims: wasm.outputs.y.dims,
        length: a.length,
        worst,
        spread,
      };
    });
    console.log(
      `smoke: wasm vs WebGPU max |diff| ${outcome.worst.toExponential(2)} (max |y| ${outcome.spread.toFixed(3)})`,
    );
    expect(outcome.backends).toEqual(['wasm', 'webgpu']);
    expect(outcome.dims).toEqual([1, 64, 8]);
    expect(outcome.spread).toBeGreaterThan(0.01);
    expect(outcome.worst).toBeLessThan(1e-4);
  });
});
