/** Opens one model file of a pack (with its external data) as a session. */

import { GessoError } from '../../shared/errors';
import type { PackSource } from '../../shared/pack-source';
import { fileChunks, weightsByReference } from '../../shared/onnx/weights-by-reference';
import type { ExternalData, ModelSession, SessionFactory, SessionHints } from '../session';
import { readExternalData } from './external-data';

/**
 * Model files from this size up are handed to onnxruntime by reference where
 * the source can leave them on disk. Smaller ones are read whole: cheap, and
 * onnxruntime folds a small int8 model's weights only when they are inline
 * (ort-session.ts, FOLD_QUANTIZED_WEIGHTS_MAX_BYTES, the same 16 MiB).
 */
export const BY_REFERENCE_MIN_FILE_BYTES = 16 * 1024 * 1024;
/** Weights from this size up are read from the file as onnxruntime wants them; smaller ones stay in the graph. */
const BY_REFERENCE_MIN_WEIGHT_BYTES = 64 * 1024;

/** The file's bytes, or a GessoError that tells the user to download the pack again. */
export async function readPackFile(
  source: PackSource,
  path: string,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  try {
    return await source.read(path, signal);
  } catch (error) {
    if (error instanceof GessoError) throw error;
    throw new GessoError(
      'pack-missing',
      `The model file ${path} could not be read. Download the pack again in Models.`,
      { cause: error },
    );
  }
}

/**
 * A model's bytes for onnxruntime, with its external data. Where the source
 * can leave a large file on disk (store/disk-bytes.ts), only its graph is
 * read into memory: every weight points back into the file, which goes to
 * onnxruntime as one more external-data file, and onnxruntime reads the
 * weights one at a time into its heap or onto the GPU. Otherwise the file is
 * read whole, as onnxruntime then copies it.
 */
export async function readModel(
  source: PackSource,
  path: string,
  signal?: AbortSignal,
): Promise<[bytes: Uint8Array, externalData: ExternalData[] | undefined]> {
  const size = source.manifest.files.find((file) => file.path === path)?.size ?? 0;
  const onDisk =
    size >= BY_REFERENCE_MIN_FILE_BYTES && source.readOnDisk ? await source.readOnDisk(path) : null;
  const [bytes, externalData] = await Promise.all([
    onDisk ? null : readPackFile(source, path, signal),
    readExternalData(source, path, signal),
  ]);
  if (!onDisk) return [bytes!, externalData];
  const name = path.slice(path.lastIndexOf('/') + 1);
  const { graph } = await weightsByReference(fileChunks(onDisk), name, {
    minBytes: BY_REFERENCE_MIN_WEIGHT_BYTES,
    signal,
  });
  return [graph, [...(externalData ?? []), { path: name, data: onDisk }]];
}

export async function openModel(
  source: PackSource,
  factory: SessionFactory,
  path: string,
  label: string,
  hints: Omit<SessionHints, 'externalData'> = {},
  signal?: AbortSignal,
  /** Rewrites the model's bytes before the session is made (external weights untouched). */
  rewrite?: (model: Uint8Array) => Promise<Uint8Array>,
): Promise<ModelSession> {
  if (!rewrite) {
    const [bytes, externalData] = await readModel(source, path, signal);
    return factory(bytes, label, { ...hints, externalData });
  }
  // A rewrite works on the whole file (Explain's copy of the UNet).
  const bytes = await rewrite(await readPackFile(source, path, signal));
  const externalData = await readExternalData(source, path, signal);
  return factory(bytes, label, { ...hints, externalData });
}
