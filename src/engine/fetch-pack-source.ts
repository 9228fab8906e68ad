/**
 * A PackSource over plain HTTP, for the built-in demo pack before (or
 * without) the model store: reads the manifest, then each file by its URL,
 * checking its size and SHA-256 against the manifest.
 *
 * A file of known size is streamed into one buffer made here and hashed as
 * it arrives: `response.arrayBuffer()` plus WebCrypto's digest held two
 * more copies of it for a while (an 827 MiB UNet file peaked at three), and
 * a buffer the browser made is not freed when the session is done with it
 * (ort-session.ts `consumeBytes` can free only one made in JavaScript).
 */

import { createSHA256 } from 'hash-wasm';
import { GessoError } from '../shared/errors';
import type { PackManifest } from '../shared/pack-manifest';
import type { PackSource } from '../shared/pack-source';

/** The body in one buffer, and its SHA-256 (hex); null when it is not `size` bytes long (when a size is given). */
async function readBody(
  response: Response,
  size: number | undefined,
): Promise<{ bytes: Uint8Array; sha256: string } | null> {
  const hasher = await createSHA256();
  hasher.init();
  if (!response.body || !size) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    hasher.update(bytes);
    return !size || bytes.byteLength === size ? { bytes, sha256: hasher.digest('hex') } : null;
  }
  const bytes = new Uint8Array(size);
  const reader = response.body.getReader();
  let offset = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (offset + value.byteLength > size) {
      await reader.cancel();
      return null;
    }
    bytes.set(value, offset);
    hasher.update(value);
    offset += value.byteLength;
  }
  return offset === size ? { bytes, sha256: hasher.digest('hex') } : null;
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
      const response = await get(url, `The model file ${path}`, readSignal ?? signal);
      const damaged = () =>
        new GessoError(
          'pack-corrupt',
          `The model file ${path} arrived damaged. Reload the app to download it again.`,
        );
      const body = await readBody(response, file.size).catch((error: unknown) => {
        if ((readSignal ?? signal)?.aborted)
          throw new GessoError('aborted', 'Cancelled.', { cause: error });
        throw new GessoError(
          'network',
          `The model file ${path} could not be downloaded. Check the connection and try again.`,
          { cause: error },
        );
      });
      if (!body || (file.sha256 && body.sha256 !== file.sha256.toLowerCase())) throw damaged();
      return body.bytes;
    },
  };
}
