/** Fixture packs from disk and onnxruntime-node sessions, for pipeline tests in Node. */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { createOrtSession, type OrtApi } from '../../../../src/engine/ort-session';
import type { SessionFactory } from '../../../../src/engine/session';
import type { PackManifest } from '../../../../src/shared/pack-manifest';
import type { PackSource } from '../../../../src/shared/pack-source';

export const FIXTURES = resolve(__dirname, '../../../fixtures/models');

export function dirPackSource(
  dir: string,
  patch: (manifest: PackManifest) => PackManifest = (m) => m,
): PackSource & { reads: string[] } {
  const manifest = patch(
    JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8')) as PackManifest,
  );
  const reads: string[] = [];
  return {
    manifest,
    reads,
    read: async (path) => {
      reads.push(path);
      return new Uint8Array(readFileSync(resolve(dir, path)));
    },
  };
}

export function fixturePack(
  name: 'sd-turbo' | 'lcm',
  patch?: (manifest: PackManifest) => PackManifest,
) {
  return dirPackSource(resolve(FIXTURES, name), patch);
}

export const nodeFactory: SessionFactory = (bytes, label, hints) =>
  createOrtSession(ortNode as unknown as OrtApi, bytes, label, {
    backend: 'cpu',
    ...(hints?.externalData ? { externalData: hints.externalData } : {}),
  });
