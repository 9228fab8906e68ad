/**
 * Where the engine gets a pack's bytes. The model store implements it over
 * IndexedDB (src/store); tests and tools may implement it over fetch or disk.
 * The engine never touches the network itself.
 */

import type { PackManifest } from './pack-manifest';

export interface PackSource {
  readonly manifest: PackManifest;
  /** The whole file at `path` (a manifest `files[].path`), verified by the store. */
  read(path: string, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * The same file as bytes left on disk until onnxruntime reads each weight
   * (store/disk-bytes.ts): external data, or a large model's own file; null,
   * or absent, where this source cannot (then `read` it).
   */
  readOnDisk?(path: string): Promise<Uint8Array | null>;
}
