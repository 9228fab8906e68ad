/**
 * The "This device" line of a pack's card judges what the engine would load:
 * once an int8 copy is made on the device it is the installed manifest's
 * default variant, which the host's manifest (the record's newest) never
 * lists. Measured at full size in Chromium: the card said "Won't run here"
 * beside "This device uses the int8 copy made here", and the copy ran.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deviceVariant, planConversion } from '../../../../src/engine/convert/plan';
import type { Capabilities } from '../../../../src/shared/capabilities';
import { variantFits } from '../../../../src/shared/fit';
import type { PackManifest } from '../../../../src/shared/pack-manifest';
import type { PackRecord } from '../../../../src/store/records';
import { defaultVariant } from '../../../../src/store/validate-manifest';
import { manifestToFit } from '../../../../src/ui/models/pack-status';

const MiB = 2 ** 20;
/** Chromium here: SwiftShader, no shader-f16. */
const caps: Capabilities = {
  webgpu: {
    vendor: 'google',
    architecture: 'swiftshader',
    description: '',
    isFallbackAdapter: false,
    shaderF16: false,
    maxBufferSize: 1024 * MiB,
    maxStorageBufferBindingSize: 128 * MiB,
  },
  webgpuUnavailableReason: null,
  wasmSimd: true,
  wasmThreads: true,
  crossOriginIsolated: true,
  hardwareConcurrency: 2,
  storage: { quotaBytes: null, usageBytes: null, persisted: null },
};

const hosted = JSON.parse(readFileSync('models/catalog/sd-turbo.json', 'utf8')) as PackManifest;

/** The installed manifest after "Make an int8 copy for this device": the copy first, as the default. */
function withCopy(manifest: PackManifest): PackManifest {
  const plan = planConversion(manifest);
  const copy = deviceVariant(
    plan,
    plan.models.map((job) => ({ job, path: `${job.source}.int8`, bytesOut: job.bytesIn / 2 })),
  );
  return {
    ...manifest,
    variants: [copy, ...manifest.variants.map((v) => ({ ...v, default: false }))],
  };
}

function record(installed: PackManifest | null): PackRecord {
  return {
    id: hosted.id,
    manifestUrl: 'https://example.org/manifest.json',
    origin: 'user',
    manifest: hosted,
    licenseAccepted: true,
    installed: installed && {
      version: installed.version,
      slot: `${installed.id}@${installed.version}`,
      variant: defaultVariant(installed),
      manifest: installed,
      unverified: [],
      bytes: 0,
      installedAt: 0,
    },
    job: null,
    addedAt: 0,
  };
}

function fit(r: PackRecord | null) {
  const manifest = manifestToFit(r, hosted)!;
  return variantFits(
    manifest.variants.find((v) => v.id === defaultVariant(manifest))!,
    caps,
    8,
  );
}

describe('the manifest the Models screen judges for "This device"', () => {
  it('is the newest known while the pack is not installed', () => {
    expect(manifestToFit(null, hosted)).toBe(hosted);
    expect(manifestToFit(record(null), hosted)).toBe(hosted);
    expect(fit(null)).toMatchObject({
      fits: false,
      reason: expect.stringMatching(/^Won't run here/),
    });
  });

  it('is the installed one once installed: the int8 copy made here fits on WebAssembly', () => {
    expect(fit(record(hosted)).fits).toBe(false);
    const installed = withCopy(hosted);
    expect(manifestToFit(record(installed), hosted)).toBe(installed);
    // The copy computes in float32, so no shader-f16 is asked; its float32 buffers are what this GPU cannot bind.
    expect(fit(record(installed))).toEqual({
      fits: true,
      reason:
        'Fits, on the CPU (WebAssembly, slower): the GPU binds at most 128 MiB where the pack needs 320 MiB.',
    });
  });
});
