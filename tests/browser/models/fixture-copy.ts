/**
 * The LCM fixture pack served by a PackHost as a user's pack under another
 * id: one of its variants (optionally with a model replaced, or its
 * requirements changed), with the files that variant needs.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackVariant } from '../../../src/shared/pack-manifest';
import type { PackManifestInput } from '../../../src/store/validate-manifest';
import { FIXTURES } from '../engine/serve';
import type { PackHost, TestPack } from '../store/pack-host';

const LCM = join(FIXTURES, 'lcm');

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface FixtureCopy {
  id: string;
  name: string;
  /** Which of the fixture's variants (int64, float, slow, ...). */
  variant: string;
  /** Files to serve instead of the fixture's, by path. */
  replace?: Record<string, Uint8Array>;
  /** Changes to the variant (its requirements, say). */
  patch?: (variant: PackVariant) => PackVariant;
  /** Changes to the manifest (its step range, say). */
  manifest?: Partial<PackManifestInput>;
}

export function addFixtureCopy(host: PackHost, baseUrl: string, copy: FixtureCopy): TestPack {
  const manifest = JSON.parse(
    readFileSync(join(LCM, 'manifest.json'), 'utf8'),
  ) as PackManifestInput;
  const source = manifest.variants.find((v) => v.id === copy.variant)!;
  const variant = { ...(copy.patch?.(source) ?? source), default: true };
  const paths = [
    ...new Set([
      manifest.tokenizer.vocab,
      manifest.tokenizer.merges,
      ...Object.values(variant.components),
    ]),
  ] as string[];
  const files: Record<string, Uint8Array> = {};
  for (const path of paths)
    files[path] = copy.replace?.[path] ?? new Uint8Array(readFileSync(join(LCM, path)));
  const pack: TestPack = {
    id: copy.id,
    name: copy.name,
    manifestUrl: `${baseUrl}/test-packs/${copy.id}/manifest.json`,
    manifest: {
      ...manifest,
      ...copy.manifest,
      id: copy.id,
      name: copy.name,
      variants: [variant],
      files: paths.map((path) => ({
        path,
        size: files[path]!.length,
        sha256: sha256(files[path]!),
      })),
    },
    files,
    faults: {},
  };
  host.packs.set(copy.id, pack);
  return pack;
}
