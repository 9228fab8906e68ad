/**
 * Validates an untrusted `gesso-pack@1` manifest (from a URL the user pasted,
 * or the built-in catalog) with one precise message per fault.
 * A file's `size` may be null in a catalog entry whose size is not published:
 * the store then learns it from the server and records it.
 */

import { packAddressFault, safeLinkUrl } from '../shared/pack-host-policy';
import type { PackFile, PackManifest } from '../shared/pack-manifest';
import { GessoError } from '../shared/errors';
import { externalDataCandidates } from '../shared/external-data';

export type ManifestFileInput = Omit<PackFile, 'size'> & { size: number | null };
export type PackManifestInput = Omit<PackManifest, 'files'> & { files: ManifestFileInput[] };

type Obj = Record<string, unknown>;

const PIPELINES = ['demo', 'sd-turbo', 'lcm'];
const BACKENDS = ['webgpu', 'wasm'];
const COMPONENTS = [
  'textEncoder',
  'unet',
  'vaeDecoder',
  'vaeEncoder',
  'previewDecoder',
  'controlNet',
  'controlUnet',
];
const REQUIRED_COMPONENTS = ['textEncoder', 'unet', 'vaeDecoder'];

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Checker {
  readonly faults: string[] = [];
  fault(where: string, what: string): void {
    this.faults.push(`${where} ${what}`);
  }
  obj(parent: Obj, key: string, where: string): Obj | null {
    const value = parent[key];
    if (!isObj(value)) {
      this.fault(where, value === undefined ? 'is missing' : 'must be an object');
      return null;
    }
    return value;
  }
  str(parent: Obj, key: string, where: string, optional = false): string | null {
    const value = parent[key];
    if (value === undefined && optional) return null;
    if (typeof value !== 'string' || value.length === 0) {
      this.fault(where, value === undefined ? 'is missing' : 'must be a non-empty string');
      return null;
    }
    return value;
  }
  num(
    parent: Obj,
    key: string,
    where: string,
    opts: { int?: boolean; min?: number; optional?: boolean } = {},
  ): number | null {
    const value = parent[key];
    if (value === undefined && opts.optional) return null;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.fault(where, value === undefined ? 'is missing' : 'must be a number');
      return null;
    }
    if (opts.int && !Number.isInteger(value)) this.fault(where, 'must be a whole number');
    else if (opts.min !== undefined && value < opts.min)
      this.fault(where, `must be at least ${opts.min}`);
    return value;
  }
  oneOf(parent: Obj, key: string, where: string, allowed: string[]): void {
    const value = parent[key];
    if (typeof value !== 'string' || !allowed.includes(value))
      this.fault(where, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  }
  bool(parent: Obj, key: string, where: string, optional = false): void {
    const value = parent[key];
    if (value === undefined && optional) return;
    if (typeof value !== 'boolean')
      this.fault(where, value === undefined ? 'is missing' : 'must be true or false');
  }
  pair(parent: Obj, key: string, where: string): void {
    const value = parent[key];
    if (
      !Array.isArray(value) ||
      value.length !== 2 ||
      !value.every((v) => typeof v === 'number' && Number.isFinite(v))
    )
      this.fault(where, 'must be a pair of numbers [min, max]');
    else if ((value[0] as number) > (value[1] as number)) this.fault(where, 'must have min <= max');
  }
}

function checkPath(c: Checker, path: string, where: string): void {
  if (
    path.startsWith('/') ||
    path.split('/').some((part) => part === '..' || part === '' || part === '.')
  )
    c.fault(where, `"${path}" must be a relative path without "..", "." or empty parts`);
}

/** Every fault found, as sentences naming the field ("files[2].size must be ..."). Empty when valid. */
export function manifestFaults(value: unknown): string[] {
  const c = new Checker();
  if (!isObj(value)) return ['The manifest must be a JSON object.'];
  if (value.format !== 'gesso-pack@1') c.fault('format', 'must be "gesso-pack@1"');
  const id = c.str(value, 'id', 'id');
  if (id !== null && !/^[a-z0-9-]+$/.test(id)) c.fault('id', 'may only contain a-z, 0-9 and "-"');
  c.str(value, 'name', 'name');
  c.str(value, 'version', 'version');
  c.str(value, 'description', 'description');
  c.oneOf(value, 'pipeline', 'pipeline', PIPELINES);
  const image = c.obj(value, 'image', 'image');
  if (image) {
    c.num(image, 'width', 'image.width', { int: true, min: 1 });
    c.num(image, 'height', 'image.height', { int: true, min: 1 });
  }
  const latent = c.obj(value, 'latent', 'latent');
  if (latent) {
    c.num(latent, 'channels', 'latent.channels', { int: true, min: 1 });
    c.num(latent, 'downscale', 'latent.downscale', { int: true, min: 1 });
    c.num(latent, 'scalingFactor', 'latent.scalingFactor');
    c.oneOf(latent, 'decoderOutput', 'latent.decoderOutput', ['minus-one-to-one', 'zero-to-one']);
    if (latent.previewOutput !== undefined)
      c.oneOf(latent, 'previewOutput', 'latent.previewOutput', ['minus-one-to-one', 'zero-to-one']);
  }
  const defaults = c.obj(value, 'defaults', 'defaults');
  if (defaults) {
    c.num(defaults, 'steps', 'defaults.steps', { int: true, min: 1 });
    c.num(defaults, 'guidance', 'defaults.guidance');
    const start = c.num(defaults, 'startStrength', 'defaults.startStrength', {
      min: 0,
      optional: true,
    });
    if (start !== null && start > 1) c.fault('defaults.startStrength', 'must be at most 1');
  }
  const ranges = c.obj(value, 'ranges', 'ranges');
  if (ranges) {
    c.pair(ranges, 'steps', 'ranges.steps');
    c.pair(ranges, 'guidance', 'ranges.guidance');
  }
  const scheduler = c.obj(value, 'scheduler', 'scheduler');
  if (scheduler) {
    c.oneOf(scheduler, 'kind', 'scheduler.kind', ['lcm', 'euler-ancestral-trailing']);
    c.num(scheduler, 'trainTimesteps', 'scheduler.trainTimesteps', { int: true, min: 1 });
    c.num(scheduler, 'betaStart', 'scheduler.betaStart', { min: 0 });
    c.num(scheduler, 'betaEnd', 'scheduler.betaEnd', { min: 0 });
    c.oneOf(scheduler, 'betaSchedule', 'scheduler.betaSchedule', ['scaled_linear', 'linear']);
    c.num(scheduler, 'originalSteps', 'scheduler.originalSteps', {
      int: true,
      min: 1,
      optional: true,
    });
    c.num(scheduler, 'timestepScaling', 'scheduler.timestepScaling', { optional: true });
    if (scheduler.prediction !== undefined)
      c.oneOf(scheduler, 'prediction', 'scheduler.prediction', ['epsilon', 'v']);
  }
  if (value.guidanceEmbedding !== undefined) {
    const g = c.obj(value, 'guidanceEmbedding', 'guidanceEmbedding');
    if (g) {
      c.num(g, 'dim', 'guidanceEmbedding.dim', { int: true, min: 2 });
      c.num(g, 'scale', 'guidanceEmbedding.scale');
    }
  }

  if (value.control !== undefined) {
    const control = c.obj(value, 'control', 'control');
    if (control) {
      c.oneOf(control, 'kind', 'control.kind', ['outline']);
      c.num(control, 'defaultStrength', 'control.defaultStrength', { min: 0 });
      c.pair(control, 'strengthRange', 'control.strengthRange');
    }
  }

  // Files first: variants and the tokenizer must point into them.
  const paths = new Set<string>();
  if (!Array.isArray(value.files) || value.files.length === 0)
    c.fault('files', 'must be a non-empty list');
  else
    value.files.forEach((file: unknown, i) => {
      const where = `files[${i}]`;
      if (!isObj(file)) return c.fault(where, 'must be an object');
      const path = c.str(file, 'path', `${where}.path`);
      if (path !== null) {
        checkPath(c, path, `${where}.path`);
        if (paths.has(path)) c.fault(`${where}.path`, `"${path}" is listed twice`);
        paths.add(path);
      }
      if (file.size !== null) c.num(file, 'size', `${where}.size`, { int: true, min: 0 });
      if (
        file.sha256 !== null &&
        (typeof file.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(file.sha256))
      )
        c.fault(`${where}.sha256`, 'must be 64 lower-case hex digits, or null when unpublished');
      if (file.url !== undefined) {
        const url = c.str(file, 'url', `${where}.url`);
        if (url !== null && !/^(https?:\/\/|\/|\.)/.test(url))
          c.fault(`${where}.url`, 'must be an http(s) URL or a path');
        else if (url !== null && /^http:/.test(url) && packAddressFault(url))
          c.fault(`${where}.url`, 'must be an https:// URL (http:// only for localhost)');
      }
    });
  const known = (path: unknown, where: string) => {
    if (typeof path === 'string' && paths.size > 0 && !paths.has(path))
      c.fault(where, `"${path}" is not in files`);
  };

  const tokenizer = c.obj(value, 'tokenizer', 'tokenizer');
  if (tokenizer) {
    c.oneOf(tokenizer, 'kind', 'tokenizer.kind', ['clip-bpe']);
    known(c.str(tokenizer, 'vocab', 'tokenizer.vocab'), 'tokenizer.vocab');
    known(c.str(tokenizer, 'merges', 'tokenizer.merges'), 'tokenizer.merges');
    for (const key of ['maxLength', 'bosTokenId', 'eosTokenId', 'padTokenId'])
      c.num(tokenizer, key, `tokenizer.${key}`, { int: true, min: 0 });
  }

  if (!Array.isArray(value.variants) || value.variants.length === 0)
    c.fault('variants', 'must be a non-empty list');
  else {
    const ids = new Set<string>();
    value.variants.forEach((variant: unknown, i) => {
      const where = `variants[${i}]`;
      if (!isObj(variant)) return c.fault(where, 'must be an object');
      const vid = c.str(variant, 'id', `${where}.id`);
      if (vid !== null && ids.has(vid)) c.fault(`${where}.id`, `"${vid}" is used twice`);
      if (vid !== null) ids.add(vid);
      c.str(variant, 'label', `${where}.label`);
      c.bool(variant, 'default', `${where}.default`, true);
      if (
        !Array.isArray(variant.backends) ||
        variant.backends.length === 0 ||
        !variant.backends.every((b) => BACKENDS.includes(b as string))
      )
        c.fault(`${where}.backends`, 'must list "webgpu" and/or "wasm"');
      const req = c.obj(variant, 'requires', `${where}.requires`);
      if (req) {
        c.bool(req, 'shaderF16', `${where}.requires.shaderF16`);
        for (const key of ['maxStorageBufferBindingSize', 'maxBufferSize', 'memoryBytes'])
          c.num(req, key, `${where}.requires.${key}`, { int: true, min: 0 });
        if (req.slicedBufferSize !== undefined)
          c.num(req, 'slicedBufferSize', `${where}.requires.slicedBufferSize`, {
            int: true,
            min: 0,
          });
        if (req.weights !== undefined)
          c.oneOf(req, 'weights', `${where}.requires.weights`, ['float32', 'float16', 'int8']);
      }
      const comps = c.obj(variant, 'components', `${where}.components`);
      if (comps) {
        for (const key of REQUIRED_COMPONENTS)
          if (comps[key] === undefined) c.fault(`${where}.components.${key}`, 'is missing');
        for (const [key, path] of Object.entries(comps)) {
          if (!COMPONENTS.includes(key))
            c.fault(`${where}.components.${key}`, 'is not a known component');
          else if (typeof path !== 'string')
            c.fault(`${where}.components.${key}`, 'must be a file path');
          else known(path, `${where}.components.${key}`);
        }
        if (comps.controlUnet !== undefined && comps.controlNet === undefined)
          c.fault(`${where}.components.controlUnet`, 'needs a controlNet beside it');
        if (comps.controlNet !== undefined && value.control === undefined)
          c.fault(`${where}.components.controlNet`, 'needs the manifest\'s "control" settings');
      }
    });
  }

  const license = c.obj(value, 'license', 'license');
  if (license) {
    c.str(license, 'spdx', 'license.spdx');
    c.str(license, 'name', 'license.name');
    const url = c.str(license, 'url', 'license.url');
    if (url !== null && !safeLinkUrl(url)) c.fault('license.url', 'must be an http(s) URL');
    c.bool(license, 'restricted', 'license.restricted');
    c.str(license, 'summary', 'license.summary');
  }
  c.str(value, 'attribution', 'attribution');
  return c.faults;
}

/** The manifest, typed, or GessoError('invalid-manifest') listing every fault. */
export function parseManifest(value: unknown): PackManifestInput {
  const faults = manifestFaults(value);
  if (faults.length > 0) {
    const list =
      faults.slice(0, 5).join('; ') + (faults.length > 5 ? `; and ${faults.length - 5} more` : '');
    throw new GessoError('invalid-manifest', `This is not a usable pack manifest: ${list}.`);
  }
  return value as PackManifestInput;
}

/** Which files a variant needs: its components, the tokenizer, and any file no variant names (e.g. external data). */
export function filesForVariant(
  manifest: PackManifestInput,
  variantId: string,
): ManifestFileInput[] {
  const variant = manifest.variants.find((v) => v.id === variantId);
  if (!variant) return [];
  // A model's external-data file belongs to the variants that use the model.
  const withData = (paths: string[]) => paths.flatMap((p) => [p, ...externalDataCandidates(p)]);
  const ofVariant = new Set<string>(
    withData(Object.values(variant.components).filter((p): p is string => !!p)),
  );
  const ofAny = new Set<string>(
    withData(
      manifest.variants.flatMap((v) => Object.values(v.components).filter((p): p is string => !!p)),
    ),
  );
  ofVariant.add(manifest.tokenizer.vocab);
  ofVariant.add(manifest.tokenizer.merges);
  return manifest.files.filter((f) => ofVariant.has(f.path) || !ofAny.has(f.path));
}

export function defaultVariant(manifest: PackManifestInput): string {
  return (manifest.variants.find((v) => v.default) ?? manifest.variants[0])!.id;
}

/** Known bytes of a set of files, and whether any size is unknown. */
export function sizeOf(files: ManifestFileInput[]): { bytes: number; unknown: number } {
  let bytes = 0;
  let unknown = 0;
  for (const f of files) {
    if (f.size === null) unknown++;
    else bytes += f.size;
  }
  return { bytes, unknown };
}

/** The absolute URL of a file: its own `url`, else its path resolved against the manifest's URL. */
export function fileUrl(file: ManifestFileInput, manifestUrl: string): string {
  return new URL(file.url ?? file.path, manifestUrl).href;
}
