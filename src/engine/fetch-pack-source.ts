/**
 * A PackSource over plain HTTP, for the built-in demo pack before (or
 * without) the model store: reads the manifest, then each file by its URL,
 * checking its size and SHA-256 against the manifest.
 */

import { GessoError } from '../shared/errors';
import type { PackManifest } from '../shared/pack-manifest';
import type { PackSource } from '../shared/pack-source';

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function get(url: string, what: string, signal?: AbortSignal): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { signal, referrerPolicy: 'no-referrer' });
  } catch (error) {
    if (signal?.aborted) throw new GessoError('aborted', 'Cancelled.', { cause: error });
    throw new GessoError(
      'network',
      `${what} could not be downloaded. Check the connection and try again.`,
      { cause: error },
    );
  }
  if (!response.ok)
    throw new GessoError(
      'pack-missing',
      `${what} is not available (HTTP ${response.status}). Reload the app, or download the pack again in Models.`,
    );
  return response;
}

export async function fetchPackSource(
  manifestUrl: string,
  signal?: AbortSignal,
): Promise<PackSource> {
  const response = await get(manifestUrl, 'The model pack description', signal);
  let manifest: PackManifest;
  try {
    manifest = (await response.json()) as PackManifest;
  } catch (error) {
    throw new GessoError(
      'pack-corrupt',
      'The model pack description is damaged. Reload the app and try again.',
      { cause: error },
    );
  }
  if (manifest.format !== 'gesso-pack@1')
    throw new GessoError(
      'invalid-manifest',
      'This model pack uses a format Gesso does not know; update the app.',
    );
  return {
    manifest,
    async read(path, readSignal) {
      const file = manifest.files.find((f) => f.path === path);
      if (!file)
        throw new GessoError(
          'pack-missing',
          `The model pack lists no file ${path}. Download the pack again in Models.`,
        );
      const url = new URL(file.url ?? path, manifestUrl).href;
      const bytes = new Uint8Array(
        await (await get(url, `The model file ${path}`, readSignal ?? signal)).arrayBuffer(),
      );
      const damaged = () =>
        new GessoError(
          'pack-corrupt',
          `The model file ${path} arrived damaged. Reload the app to download it again.`,
        );
      if (file.size && bytes.byteLength !== file.size) throw damaged();
      if (file.sha256 && globalThis.crypto?.subtle) {
        const digest = toHex(await globalThis.crypto.subtle.digest('SHA-256', bytes));
        if (digest !== file.sha256.toLowerCase()) throw damaged();
      }
      return bytes;
    },
  };
}
