import { describe, expect, it } from 'vitest';
import type { PackManifest } from '../../../../src/shared/pack-manifest';
import type { PackRecord } from '../../../../src/store/records';
import type { PackManifestInput } from '../../../../src/store/validate-manifest';
import {
  choiceForPack,
  chooseModel,
  DEMO_CHOICE,
  modelOptions,
  packIdArg,
  controlsFor,
} from '../../../../src/ui/create/model-choice';
import { FALLBACK_CONTROLS } from '../../../../src/ui/create/pack-controls';
import { testManifest } from '../../store/fixtures';

const DEMO_URL = 'https://app.example/packs/demo/manifest.json';

function manifest(id: string, name: string, over: Partial<PackManifestInput> = {}) {
  return testManifest(id, [{ path: 'a.onnx', size: 1, sha256: null }], { name, ...over });
}

function record(
  m: PackManifestInput,
  { installed = true, origin = 'user', manifestUrl = `https://host.example/${m.id}.json` } = {},
): PackRecord {
  return {
    id: m.id,
    manifestUrl,
    origin: origin as PackRecord['origin'],
    manifest: m,
    licenseAccepted: true,
    installed: installed
      ? {
          version: m.version,
          slot: `${m.id}@${m.version}`,
          variant: 'main',
          manifest: m as PackManifest,
          unverified: [],
          bytes: 1,
          installedAt: 0,
        }
      : null,
    job: null,
    addedAt: 0,
  };
}

const demo = manifest('demo-emoji', 'Gesso demo: emoji', {
  guidanceEmbedding: { dim: 256, scale: 1000 },
});
const turbo = manifest('sd-turbo', 'SD-Turbo', {
  pipeline: 'sd-turbo',
  defaults: { steps: 1, guidance: 1 },
  ranges: { steps: [1, 4], guidance: [1, 1] },
});
const lcm = manifest('lcm', 'LCM Dreamshaper v7', {
  pipeline: 'lcm',
  guidanceEmbedding: demo.guidanceEmbedding,
});
const downloading = manifest('big', 'A pack still downloading');

describe('the Model choices', () => {
  const records = [
    record(turbo, { origin: 'builtin' }),
    record(demo, { origin: 'builtin', manifestUrl: DEMO_URL }),
    record(downloading, { installed: false }),
    record(lcm),
  ];

  it('lists the demo pack first (as no packId), then the installed packs by name', () => {
    const options = modelOptions(records, DEMO_URL, null);
    expect(options.map((o) => [o.value, o.packId, o.label, o.settings?.guidance])).toEqual([
      [DEMO_CHOICE, 'demo-emoji', 'Gesso demo: emoji', 'embedding'],
      ['lcm', 'lcm', 'LCM Dreamshaper v7', 'embedding'],
      ['sd-turbo', 'sd-turbo', 'SD-Turbo', 'none'],
    ]);
  });

  it('always has the demo pack: named from its fetched manifest, or plainly while unknown', () => {
    expect(modelOptions([], DEMO_URL, demo)).toEqual([
      {
        value: DEMO_CHOICE,
        packId: 'demo-emoji',
        label: 'Gesso demo: emoji',
        settings: {
          guidance: 'embedding',
          defaults: demo.defaults,
          ranges: demo.ranges,
          hasImageEncoder: false, // this test's manifest lists no VAE encoder
          control: null, // nor a ControlNet
          decoders: { fast: false, default: 'full' }, // nor a preview decoder
        },
      },
    ]);
    expect(modelOptions([], DEMO_URL, null)).toEqual([
      { value: DEMO_CHOICE, packId: null, label: 'Built-in demo', settings: null },
    ]);
  });

  it('keeps the remembered pack while it is installed, and falls back to the demo pack', () => {
    const options = modelOptions(records, DEMO_URL, null);
    expect(chooseModel('sd-turbo', options)).toBe('sd-turbo');
    expect(chooseModel('big', options)).toBe(DEMO_CHOICE);
    expect(chooseModel('deleted-pack', options)).toBe(DEMO_CHOICE);
    expect(chooseModel(null, options)).toBe(DEMO_CHOICE);
    expect(chooseModel(DEMO_CHOICE, options)).toBe(DEMO_CHOICE);
  });

  it('finds the choice for a recipe’s pack, the demo pack included', () => {
    const options = modelOptions(records, DEMO_URL, null);
    expect(choiceForPack('lcm', options)).toBe('lcm');
    expect(choiceForPack('demo-emoji', options)).toBe(DEMO_CHOICE);
    expect(choiceForPack('big', options)).toBeNull();
  });

  it('loads the demo pack without a packId', () => {
    expect(packIdArg(DEMO_CHOICE)).toBeUndefined();
    expect(packIdArg('lcm')).toBe('lcm');
  });

  it('shows the loaded pack’s settings for the choice it was loaded for, else the manifest’s', () => {
    const options = modelOptions(records, DEMO_URL, null);
    const loaded = { ...FALLBACK_CONTROLS, guidance: 'cfg' as const };
    expect(controlsFor('lcm', options, { choice: 'lcm', pack: loaded })).toBe(loaded);
    expect(controlsFor('sd-turbo', options, { choice: 'lcm', pack: loaded }).guidance).toBe('none');
    expect(controlsFor(DEMO_CHOICE, modelOptions([], DEMO_URL, null), null)).toBe(
      FALLBACK_CONTROLS,
    );
  });
});
