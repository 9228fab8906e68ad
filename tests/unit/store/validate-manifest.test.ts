import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GessoError } from '../../../src/shared/errors';
import { catalog } from '../../../src/store/catalog';
import {
  filesForVariant,
  manifestFaults,
  parseManifest,
  sizeOf,
} from '../../../src/store/validate-manifest';
import { testManifest } from './fixtures';

const files = [
  { path: 'unet.onnx', size: 10, sha256: null },
  { path: 'vocab.json', size: 5, sha256: 'a'.repeat(64) },
];
const valid = () =>
  JSON.parse(JSON.stringify(testManifest('ok', files))) as Record<string, unknown>;

describe('manifest validation', () => {
  it('accepts a valid manifest', () => {
    expect(manifestFaults(valid())).toEqual([]);
    expect(parseManifest(valid()).id).toBe('ok');
  });

  it('names each fault precisely', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- spoiling a JSON tree
    const cases: [(m: Record<string, any>) => void, string][] = [
      [(m) => (m.format = 'gesso-pack@2'), 'format must be "gesso-pack@1"'],
      [(m) => (m.id = 'Bad Id'), 'id may only contain a-z, 0-9 and "-"'],
      [(m) => delete m.name, 'name is missing'],
      [(m) => (m.pipeline = 'dalle'), 'pipeline must be one of "demo", "sd-turbo", "lcm"'],
      [(m) => (m.files[0].size = -1), 'files[0].size must be at least 0'],
      [(m) => (m.files[0].size = 1.5), 'files[0].size must be a whole number'],
      [
        (m) => (m.files[1].sha256 = 'ABC'),
        'files[1].sha256 must be 64 lower-case hex digits, or null when unpublished',
      ],
      [
        (m) => (m.files[1].path = '../etc/passwd'),
        'files[1].path "../etc/passwd" must be a relative path without "..", "." or empty parts',
      ],
      [(m) => (m.files[1].path = 'unet.onnx'), 'files[1].path "unet.onnx" is listed twice'],
      [
        (m) => (m.files[0].url = 'javascript:alert(1)'),
        'files[0].url must be an http(s) URL or a path',
      ],
      [
        (m) => (m.variants[0].components.unet = 'missing.onnx'),
        'variants[0].components.unet "missing.onnx" is not in files',
      ],
      [
        (m) => delete m.variants[0].components.vaeDecoder,
        'variants[0].components.vaeDecoder is missing',
      ],
      [
        (m) => (m.variants[0].backends = ['cuda']),
        'variants[0].backends must list "webgpu" and/or "wasm"',
      ],
      [
        (m) => (m.variants[0].requires.shaderF16 = 'no'),
        'variants[0].requires.shaderF16 must be true or false',
      ],
      [(m) => (m.tokenizer.vocab = 'nope.json'), 'tokenizer.vocab "nope.json" is not in files'],
      [(m) => (m.ranges.steps = [8, 1]), 'ranges.steps must have min <= max'],
      [(m) => (m.license.restricted = undefined), 'license.restricted is missing'],
      [(m) => (m.files = []), 'files must be a non-empty list'],
      [
        (m) => (m.variants[0].components.controlNet = 'unet.onnx'),
        'variants[0].components.controlNet needs the manifest\'s "control" settings',
      ],
      [
        (m) => (m.variants[0].components.controlUnet = 'unet.onnx'),
        'variants[0].components.controlUnet needs a controlNet beside it',
      ],
      [
        (m) => (m.control = { kind: 'depth', defaultStrength: 1, strengthRange: [0, 2] }),
        'control.kind must be one of "outline"',
      ],
      [
        (m) => (m.control = { kind: 'outline', defaultStrength: 1, strengthRange: [2, 0] }),
        'control.strengthRange must have min <= max',
      ],
    ];
    for (const [spoil, message] of cases) {
      const m = valid();
      spoil(m);
      expect(manifestFaults(m), message).toContain(message);
    }
  });

  it('throws invalid-manifest listing the faults', () => {
    const m = valid();
    delete m.name;
    m.pipeline = 'x';
    try {
      parseManifest(m);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GessoError);
      expect((error as GessoError).code).toBe('invalid-manifest');
      expect((error as GessoError).message).toContain('name is missing; pipeline must be one of');
    }
    expect(manifestFaults('nope')).toEqual(['The manifest must be a JSON object.']);
  });

  it('picks only the files a variant needs', () => {
    const m = testManifest('v', [
      { path: 'a.onnx', size: 1, sha256: null },
      { path: 'b.onnx', size: 2, sha256: null },
      { path: 'b.onnx_data', size: 3, sha256: null },
      { path: 'vocab.json', size: 4, sha256: null },
    ]);
    m.tokenizer = { ...m.tokenizer, vocab: 'vocab.json', merges: 'vocab.json' };
    m.variants = [
      {
        ...m.variants[0]!,
        id: 'small',
        components: { textEncoder: 'a.onnx', unet: 'a.onnx', vaeDecoder: 'a.onnx' },
      },
      {
        ...m.variants[0]!,
        id: 'big',
        default: false,
        components: { textEncoder: 'b.onnx', unet: 'b.onnx', vaeDecoder: 'b.onnx' },
      },
    ];
    // b.onnx_data is b.onnx's external data: only the variant that uses b.onnx downloads it.
    expect(filesForVariant(m, 'small').map((f) => f.path)).toEqual(['a.onnx', 'vocab.json']);
    expect(filesForVariant(m, 'big').map((f) => f.path)).toEqual([
      'b.onnx',
      'b.onnx_data',
      'vocab.json',
    ]);
    expect(sizeOf(filesForVariant(m, 'big'))).toEqual({ bytes: 9, unknown: 0 });
  });
});

describe('the built-in catalog', () => {
  const dir = join(__dirname, '../../../models/catalog');
  const entries = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'index.json');
  it('has the real packs people want', () => {
    expect(entries.sort()).toEqual(['lcm-dreamshaper-v7.json', 'sd-turbo.json', 'sdxs-512.json']);
  });
  it('bundles every manifest index.json lists, with no code to change', () => {
    const listed = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
      packs: { manifest?: string; manifestUrl?: string }[];
    };
    const bundled = catalog('https://gesso.example/');
    expect(bundled).toHaveLength(listed.packs.length);
    for (const [k, entry] of listed.packs.entries()) {
      if (!entry.manifest) continue;
      const onDisk = JSON.parse(readFileSync(join(dir, entry.manifest), 'utf8')) as { id: string };
      expect(bundled[k]!.manifest?.id).toBe(onDisk.id);
    }
  });
  it('the LCM fixture with a ControlNet (tests/fixtures/models/lcm) is valid', () => {
    const lcm = join(__dirname, '../../fixtures/models/lcm/manifest.json');
    expect(manifestFaults(JSON.parse(readFileSync(lcm, 'utf8')))).toEqual([]);
  });
  it('the demo pack manifest (public/packs/demo) is valid', () => {
    const demo = join(__dirname, '../../../public/packs/demo/manifest.json');
    expect(manifestFaults(JSON.parse(readFileSync(demo, 'utf8')))).toEqual([]);
  });
  for (const name of entries)
    it(`${name} is a valid manifest`, () => {
      expect(manifestFaults(JSON.parse(readFileSync(join(dir, name), 'utf8')))).toEqual([]);
    });
});
