import { describe, expect, it } from 'vitest';
import type { PackManifest } from '../../../src/shared/pack-manifest';
import { catalog, reservedIdFault } from '../../../src/store/catalog';
import type { PackRecord } from '../../../src/store/records';
import type { PackManifestInput } from '../../../src/store/validate-manifest';
import { admitDownload } from '../../../sw/downloads/admission';
import { testManifest } from '../store/fixtures';

const BASE = 'https://gesso.example/';
const DEMO_URL = `${BASE}packs/demo/manifest.json`;
const USER_URL = 'https://stranger.example/pack/manifest.json';

const manifest = (id: string, version = '1.0.0') =>
  testManifest(id, [{ path: 'a.onnx', size: 10, sha256: null }], { version });

function record(
  m: PackManifestInput,
  manifestUrl: string,
  origin: PackRecord['origin'],
): PackRecord {
  return {
    id: m.id,
    manifestUrl,
    origin,
    manifest: m,
    licenseAccepted: false,
    installed: {
      version: m.version,
      slot: `${m.id}@${m.version}`,
      variant: 'main',
      manifest: m as PackManifest,
      unverified: [],
      bytes: 10,
      installedAt: 0,
    },
    job: null,
    addedAt: 0,
  };
}

describe('built-in pack ids are reserved', () => {
  it('knows every built-in id at build time, the demo pack served by the app included', () => {
    expect(catalog(BASE).map((e) => e.id)).toEqual([
      'demo-emoji',
      'sdxs-512',
      'sd-turbo',
      'lcm-dreamshaper-v7',
    ]);
  });

  it('refuses a user pack with the demo pack id, with a sentence', () => {
    const admission = admitDownload({
      manifest: manifest('demo-emoji', '9.0.0'),
      manifestUrl: USER_URL,
      baseUrl: BASE,
      existing: undefined,
      records: [],
    });
    expect(admission).toEqual({
      kind: 'refuse',
      message:
        'This pack\'s id "demo-emoji" belongs to Gesso\'s built-in pack "Gesso demo: emoji", so a pack from another address can\'t use it (it would replace the built-in one). Ask the pack\'s author to give it an id of its own.',
    });
  });

  it.each(['sd-turbo', 'sdxs-512', 'lcm-dreamshaper-v7'])(
    'refuses a user pack with the id %s',
    (id) => {
      expect(reservedIdFault(id, USER_URL, BASE)).toMatch(
        /^This pack's id ".+" belongs to Gesso's built-in pack/,
      );
    },
  );

  it('refuses an id a stored built-in record holds, even one unknown at build time', () => {
    const builtin = record(manifest('future-builtin'), DEMO_URL, 'builtin');
    expect(reservedIdFault('future-builtin', USER_URL, BASE, [builtin])).toMatch(
      /one of Gesso's built-in packs/,
    );
    // A record that only says "builtin" but came from elsewhere reserves nothing.
    const stray = record(manifest('stray'), USER_URL, 'builtin');
    expect(reservedIdFault('stray', 'https://other.example/m.json', BASE, [stray])).toBeNull();
  });

  it('lets the built-in address use its own id, and no other', () => {
    expect(reservedIdFault('demo-emoji', DEMO_URL, BASE)).toBeNull();
    expect(reservedIdFault('something-else', DEMO_URL, BASE)).toMatch(/names a different pack/);
  });

  it('decides the origin itself: a catalog address is built-in, anything else is a user pack', () => {
    const fromUser = admitDownload({
      manifest: manifest('mine'),
      manifestUrl: USER_URL,
      baseUrl: BASE,
      existing: undefined,
      records: [],
    });
    expect(fromUser).toMatchObject({ kind: 'start', origin: 'user' });
    const demo = admitDownload({
      manifest: manifest('demo-emoji'),
      manifestUrl: DEMO_URL,
      baseUrl: BASE,
      existing: undefined,
      records: [],
    });
    expect(demo).toMatchObject({ kind: 'start', origin: 'builtin' });
  });

  it('takes a bundled catalog manifest from its own copy, not from the page', () => {
    const url = catalog(BASE).find((e) => e.id === 'sd-turbo')!.manifestUrl;
    const forged = { ...manifest('sd-turbo'), name: 'Forged' };
    const admission = admitDownload({
      manifest: forged,
      manifestUrl: url,
      baseUrl: BASE,
      existing: undefined,
      records: [],
    });
    expect(admission.kind).toBe('start');
    expect(admission.kind === 'start' && admission.manifest.name).toBe('SD-Turbo');
  });
});

describe('no install replaces a pack from another address', () => {
  // Stored before ids were reserved: the user's "demo-emoji" 9.0.0 installed over the demo.
  const usersDemo = record(manifest('demo-emoji', '9.0.0'), USER_URL, 'builtin');

  it('the automatic built-in install skips a pack the user added with its id (never deletes it)', () => {
    const admission = admitDownload({
      manifest: manifest('demo-emoji', '1.1.0'),
      manifestUrl: DEMO_URL,
      baseUrl: BASE,
      existing: usersDemo,
      records: [usersDemo],
      automatic: true,
    });
    expect(admission.kind).toBe('skip');
  });

  it('a built-in download the user starts is refused with a sentence instead', () => {
    const admission = admitDownload({
      manifest: manifest('demo-emoji', '1.1.0'),
      manifestUrl: DEMO_URL,
      baseUrl: BASE,
      existing: usersDemo,
      records: [usersDemo],
    });
    expect(admission).toMatchObject({
      kind: 'refuse',
      message: expect.stringContaining(
        `added from ${USER_URL}, uses the id "demo-emoji" of Gesso's built-in pack. Delete it in Models first`,
      ),
    });
  });

  it('a user pack with the id of another user pack from elsewhere is refused', () => {
    const mine = record(manifest('shared-id'), USER_URL, 'user');
    const admission = admitDownload({
      manifest: manifest('shared-id', '2.0.0'),
      manifestUrl: 'https://other.example/manifest.json',
      baseUrl: BASE,
      existing: mine,
      records: [mine],
    });
    expect(admission).toMatchObject({
      kind: 'refuse',
      message: expect.stringContaining('You already have a pack with the id "shared-id"'),
    });
  });

  it('an update from the same address is a download; the installed version is nothing to do', () => {
    const mine = record(manifest('mine'), USER_URL, 'user');
    const args = { manifestUrl: USER_URL, baseUrl: BASE, existing: mine, records: [mine] };
    expect(admitDownload({ ...args, manifest: manifest('mine', '2.0.0') })).toMatchObject({
      kind: 'start',
      origin: 'user',
    });
    expect(admitDownload({ ...args, manifest: manifest('mine') })).toEqual({ kind: 'installed' });
  });
});
