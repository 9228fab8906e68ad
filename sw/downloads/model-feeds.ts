/**
 * Measures each model file of the variant as its chunks are stored, so the
 * install need not read it back. A file whose download did not start at its
 * first byte (a resume) gets no feed and is read back at install.
 */

import { packAttentionBlocks } from '../../src/shared/onnx/slice-attention';
import { componentDimensions } from '../../src/shared/free-dimensions';
import { ModelSummaryFeed, type ModelSummary } from '../../src/shared/onnx/inspect';
import type { ComponentName, PackVariant } from '../../src/shared/pack-manifest';
import type { FileRecord } from '../../src/store/records';
import type { PackManifestInput } from '../../src/store/validate-manifest';

/** One feed per model file of the variant being downloaded (runJob holds one). */
export class ModelFeeds {
  private readonly dims = new Map<string, Record<string, number>>();
  private readonly feeds = new Map<string, ModelSummaryFeed>();
  private readonly complete = new Set<string>();
  /** The chunk index each feed takes next: anything else (a gap) ends its feed. */
  private readonly next = new Map<string, number>();

  /** Self-attention row blocks at the pack's size: the sliced largest activation is measured too. */
  private readonly attentionBlocks: number;

  constructor(manifest: PackManifestInput, variant: PackVariant) {
    this.attentionBlocks = packAttentionBlocks(manifest);
    for (const [component, path] of Object.entries(variant.components))
      if (!this.dims.has(path))
        this.dims.set(path, componentDimensions(manifest, component as ComponentName));
  }

  async stored(file: FileRecord, index: number, chunk: Uint8Array): Promise<void> {
    const dims = this.dims.get(file.path);
    if (!dims) return;
    if (index === 0) {
      this.cut(file.path);
      this.feeds.set(file.path, new ModelSummaryFeed(dims, this.attentionBlocks));
      this.next.set(file.path, 0);
    }
    if (this.next.get(file.path) !== index) return this.cut(file.path);
    this.next.set(file.path, index + 1);
    await this.feeds.get(file.path)?.push(chunk);
  }

  done(path: string): void {
    this.feeds.get(path)?.end();
    if (this.feeds.has(path)) this.complete.add(path);
  }

  cut(path: string): void {
    this.feeds.get(path)?.abandon();
    this.feeds.delete(path);
    this.next.delete(path);
    this.complete.delete(path);
  }

  summaries(): Map<string, Promise<ModelSummary>> {
    return new Map([...this.complete].map((path) => [path, this.feeds.get(path)!.result]));
  }
}
