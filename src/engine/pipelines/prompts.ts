/**
 * Prompts to text states: tokenize, run the text encoder, and remember the
 * last few encodings (main, negative and empty prompts plus up to 8 regions,
 * so a regional image re-encodes nothing). Where memory is short the text
 * encoder is released after each encoding and opened again when needed.
 */

import type { PackManifest } from '../../shared/pack-manifest';
import { throwIfAborted } from '../abort';
import { dimOr, inputOr, isDeviceTensor, outputOr, type ModelSession } from '../session';
import { numberTensor } from '../tensors';
import type { ClipTokenizer } from '../tokenizer';
import { asDType } from './dtype';
import type { Conditioning } from './types';

const CACHE_SIZE = 12;

export class PromptEncoder {
  private readonly cache = new Map<string, Conditioning>();

  constructor(
    readonly tokenizer: ClipTokenizer,
    private readonly manifest: Pick<PackManifest, 'tokenizer'>,
    private session: ModelSession | null,
    /** Opens the text encoder again after a release. */
    private readonly reopen: (signal?: AbortSignal) => Promise<ModelSession>,
    /** Free the text encoder after each encoding. */
    private readonly releaseAfterUse: boolean,
  ) {}

  async encode(prompt: string, signal?: AbortSignal): Promise<Conditioning> {
    const cached = this.cache.get(prompt);
    if (cached) {
      this.cache.delete(prompt);
      this.cache.set(prompt, cached);
      return cached;
    }
    throwIfAborted(signal);
    const session = (this.session ??= await this.reopen(signal));
    const idsInfo = inputOr(session, 'input_ids');
    const ids = this.tokenizer.encode(prompt);
    const length = dimOr(idsInfo, 1, ids.length);
    const { padTokenId, eosTokenId } = this.manifest.tokenizer;
    const padded = new Int32Array(length).fill(padTokenId);
    padded.set(ids.subarray(0, length));
    if (length < ids.length) padded[length - 1] = eosTokenId;
    const outputs = await session.run({
      [idsInfo.name]: numberTensor(asDType(idsInfo.type, 'token ids'), [1, length], padded),
    });
    const name = outputOr(session, 'last_hidden_state').name;
    for (const [key, value] of Object.entries(outputs))
      if (key !== name && isDeviceTensor(value)) value.dispose();
    const conditioning: Conditioning = { prompt, hidden: outputs[name]! };
    if (this.releaseAfterUse) await this.releaseSession();
    this.remember(conditioning);
    return conditioning;
  }

  private remember(conditioning: Conditioning): void {
    this.cache.set(conditioning.prompt, conditioning);
    while (this.cache.size > CACHE_SIZE) {
      const [oldest, entry] = this.cache.entries().next().value as [string, Conditioning];
      this.cache.delete(oldest);
      if (isDeviceTensor(entry.hidden)) entry.hidden.dispose();
    }
  }

  /** Forget cached encodings (benchmarks time the text encoder on every run). */
  clear(): void {
    for (const entry of this.cache.values())
      if (isDeviceTensor(entry.hidden)) entry.hidden.dispose();
    this.cache.clear();
  }

  private async releaseSession(): Promise<void> {
    const session = this.session;
    this.session = null;
    await session?.release();
  }

  async release(): Promise<void> {
    this.clear();
    await this.releaseSession();
  }
}
