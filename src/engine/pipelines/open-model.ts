/** Opens one model file of a pack (with its external data) as a session. */

import { GessoError } from '../../shared/errors';
import type { PackSource } from '../../shared/pack-source';
import type { ModelSession, SessionFactory, SessionHints } from '../session';
import { readExternalData } from './external-data';

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
  const read = await readPackFile(source, path, signal);
  const bytes = rewrite ? await rewrite(read) : read;
  const externalData = await readExternalData(source, path, signal);
  return factory(bytes, label, { ...hints, externalData });
}
