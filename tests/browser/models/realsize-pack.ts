/**
 * The shape-true packs of models/realsize (real SD architectures, random
 * weights) at width / 8, built (or found cached) by models/realsize/build.py,
 * and a float32 copy of one for WebGPU adapters without shader-f16, read
 * into PackHost test packs.
 */

import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import type { PackManifestInput } from '../../../src/store/validate-manifest';
import { fixSeed } from '../create/create-page';
import { PREFIX, type PackHost, type TestPack } from '../store/pack-host';

/** Debian's Python here; GESSO_PYTHON where torch and onnx live elsewhere (scripts/gpu-run.sh on a GPU machine). */
export const PYTHON = process.env.GESSO_PYTHON ?? '/usr/bin/python3';
/** The repository: tests and benches run from its root (GESSO_ROOT when bundled elsewhere). */
const ROOT = process.env.GESSO_ROOT ?? process.cwd();
const run = promisify(execFile);

/** Why the packs cannot be built here (Debian's python3-torch and python3-onnx missing), or null. */
export function cannotBuild(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { encoding: 'utf8' });
  if (probe.status === 0) return null;
  const why = (probe.stderr || probe.error?.message || 'failed').trim().split('\n').pop();
  return `${PYTHON} cannot import torch, onnx and numpy (${why}): apt-get install python3-torch python3-onnx python3-numpy`;
}

/** Builds (or finds cached) a width-reduced pack; its folder. */
export function buildReduced(pack: 'sd-turbo' | 'lcm'): Promise<string> {
  return buildPack(pack, 'reduced');
}

/** Builds (or finds cached) a pack at real or reduced width; its folder. Full width takes 3-13 minutes. */
export async function buildPack(
  pack: 'sd-turbo' | 'lcm',
  width: 'reduced' | 'full',
): Promise<string> {
  const { stdout } = await run(
    PYTHON,
    ['models/realsize/build.py', '--pack', pack, '--width', width],
    { cwd: ROOT, maxBuffer: 16 << 20, timeout: width === 'full' ? 1_800_000 : 600_000 },
  );
  const dir = stdout.trim().split('\n').pop()!;
  if (!existsSync(join(dir, 'manifest.json'))) throw new Error(`build.py printed ${stdout}`);
  return dir;
}

/** The float32 copy of a pack's models (models/realsize/fp32_copy.py, cached beside the pack); its folder. */
export async function float32Copy(packDir: string): Promise<string> {
  const { stdout } = await run(
    PYTHON,
    ['models/realsize/fp32_copy.py', packDir, `${packDir}-fp32`],
    { cwd: ROOT, maxBuffer: 1 << 20, timeout: 300_000 },
  );
  return stdout.trim();
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function serve(
  host: PackHost,
  baseUrl: string,
  manifest: PackManifestInput,
  dir: string,
): TestPack {
  const files: Record<string, Uint8Array> = {};
  for (const file of manifest.files)
    files[file.path] = new Uint8Array(readFileSync(join(dir, file.path)));
  const pack: TestPack = {
    id: manifest.id,
    name: manifest.name,
    manifestUrl: `${baseUrl}${PREFIX}${manifest.id}/manifest.json`,
    manifest,
    files,
    faults: {},
  };
  host.packs.set(pack.id, pack);
  return pack;
}

/** The pack as build.py wrote it, served by `host`. */
export function servePack(host: PackHost, baseUrl: string, dir: string): TestPack {
  const manifest = JSON.parse(
    readFileSync(join(dir, 'manifest.json'), 'utf8'),
  ) as PackManifestInput;
  return serve(host, baseUrl, manifest, dir);
}

/**
 * The float32 copy as a pack of its own that makes `size` x `size` images:
 * one variant without shader-f16, the text encoder, UNet and VAE decoder only.
 */
export function serveFloat32Copy(
  host: PackHost,
  baseUrl: string,
  source: TestPack,
  dir: string,
  size: number,
): TestPack {
  const from = source.manifest.variants[0]!;
  const components = {
    textEncoder: from.components.textEncoder,
    unet: from.components.unet,
    vaeDecoder: from.components.vaeDecoder,
  };
  const paths = [
    source.manifest.tokenizer.vocab,
    source.manifest.tokenizer.merges,
    ...Object.values(components),
  ];
  const files = paths.map((path) => {
    const bytes = readFileSync(join(dir, path));
    return { path, size: bytes.length, sha256: sha256(bytes) };
  });
  const models = files.slice(2).reduce((n, f) => n + f.size, 0);
  // The largest weight, widened: twice the float16 one.
  const largest = 2 * from.requires.maxStorageBufferBindingSize;
  const manifest: PackManifestInput = {
    ...source.manifest,
    id: `${source.id}-fp32-${size}`,
    name: `${source.name}, float32 copy at ${size} px`,
    image: { width: size, height: size },
    variants: [
      {
        id: 'fp32',
        label: 'float32 copy (no shader-f16 needed)',
        default: true,
        backends: ['webgpu', 'wasm'],
        requires: {
          shaderF16: false,
          weights: 'float32',
          maxStorageBufferBindingSize: largest,
          maxBufferSize: largest,
          memoryBytes: models,
        },
        components,
      },
    ],
    files,
  };
  return serve(host, baseUrl, manifest, dir);
}

/** Bytes of every file of a pack (what one download of it is). */
export function packBytes(pack: TestPack): number {
  return Object.values(pack.files).reduce((n, bytes) => n + bytes.length, 0);
}

/** Picks the backend in Settings and waits until the app says it is in use. */
export async function chooseBackend(
  page: Page,
  appUrl: string,
  name: 'WebGPU' | 'WebAssembly',
): Promise<void> {
  await page.goto(`${appUrl}/#/settings`);
  await page.getByRole('radio', { name, exact: true }).check();
  await page.waitForFunction(
    (name) => document.querySelector('[data-testid="backend-in-use"]')?.textContent === name,
    name,
  );
}

/**
 * Readies Create for a run of `prompt` at `seed`: alerts left from earlier
 * runs are marked stale (they are not this run's outcome) and the current
 * result's address is returned as `before`, for awaitRun. Then press Generate.
 */
export async function prepareRun(page: Page, prompt: string, seed: number) {
  const alt = `Generated image: ${prompt}`;
  const before = await page.evaluate((alt) => {
    for (const alert of document.querySelectorAll('.create [role="alert"]'))
      alert.setAttribute('data-stale', '');
    return [...document.querySelectorAll('img')].find((i) => i.alt === alt)?.src ?? null;
  }, alt);
  await fixSeed(page, seed);
  await page.getByLabel('Prompt', { exact: true }).fill(prompt);
  return { alt, before };
}

/**
 * After Generate was pressed at `start`: waits for the run's end ('done': a
 * new result image other than `before`, or 'alert: …', the app's sentence),
 * timing the load (until the first step or the end) and the steps apart.
 */
export async function awaitRun(
  page: Page,
  run: { alt: string; before: string | null; start: number; timeout: number },
  polling: { load: number; steps: number },
  onLoaded?: (loadMs: number) => void,
): Promise<{ state: string; loadMs: number; generateMs: number }> {
  const { alt, before, start, timeout } = run;
  const until = async (states: RegExp, every: number) =>
    (await (
      await page.waitForFunction(
        ({ alt, before, states }) => {
          let state: string | null = null;
          const img = [...document.querySelectorAll('img')].find((i) => i.alt === alt);
          const bar = document.querySelector('.create [role="progressbar"]');
          const alert = document.querySelector('.create [role="alert"]:not([data-stale])');
          if (img && img.src !== before && img.complete) state = 'done';
          else if (bar)
            state = bar.getAttribute('aria-label') === 'Generating' ? 'generating' : 'busy';
          else if (alert) state = `alert: ${alert.textContent}`;
          return state !== null && new RegExp(states).test(state) ? state : null;
        },
        { alt, before, states: states.source },
        { timeout, polling: every },
      )
    ).jsonValue()) as string;
  let state = await until(/^(generating|done|alert)/, polling.load);
  const loadMs = Date.now() - start;
  onLoaded?.(loadMs);
  if (state === 'generating') state = await until(/^(done|alert)/, polling.steps);
  return { state, loadMs, generateMs: Date.now() - start - loadMs };
}
