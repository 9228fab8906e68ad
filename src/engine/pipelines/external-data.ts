/** Hands a model's external-data files to onnxruntime-web, by the name the model uses. */

import { externalDataCandidates } from '../../shared/external-data';
import type { PackManifest } from '../../shared/pack-manifest';
import type { PackSource } from '../../shared/pack-source';
import type { ExternalData } from '../session';

/** Manifest paths of the external-data files of the model at `modelPath`. */
export function externalDataPaths(
  manifest: Pick<PackManifest, 'files'>,
  modelPath: string,
): string[] {
  const candidates = externalDataCandidates(modelPath);
  return manifest.files.map((file) => file.path).filter((path) => candidates.includes(path));
}

/** Bytes of a model file and its external data, from the manifest's sizes. */
export function modelBytes(manifest: Pick<PackManifest, 'files'>, modelPath: string): number {
  return [modelPath, ...externalDataPaths(manifest, modelPath)].reduce(
    (n, p) => n + (manifest.files.find((file) => file.path === p)?.size ?? 0),
    0,
  );
}

/**
 * Them, named as the model refers to them (the file name, relative to the
 * model): left on disk for onnxruntime to read weight by weight where the
 * source can, else read whole.
 */
export async function readExternalData(
  source: PackSource,
  modelPath: string,
  signal?: AbortSignal,
): Promise<ExternalData[] | undefined> {
  const paths = externalDataPaths(source.manifest, modelPath);
  if (paths.length === 0) return undefined;
  return Promise.all(
    paths.map(async (path) => ({
      path: path.slice(path.lastIndexOf('/') + 1),
      data: (await source.readOnDisk?.(path)) ?? (await source.read(path, signal)),
    })),
  );
}
