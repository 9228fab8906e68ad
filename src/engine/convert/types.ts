/** The int8 copy's request and answer (EngineApi.convertVariant), apart from api.ts so that the import can make one. */

export interface ConvertVariantArgs {
  /** An installed pack's id. */
  packId: string;
  /** The installed variant to copy; default: the pack's default variant. */
  from?: string;
  /** Weight-only int8 per output channel, as models/quantize.py (the only mode for packs). */
  mode?: 'int8-per-channel';
}

export interface ConvertVariantResult {
  /** The new variant, now the pack's default (chosen automatically). */
  variantId: string;
  from: string;
  /** The source variant's files, all of them (models, external data, tokenizer). */
  bytesBefore: number;
  /** The new variant's files, all of them, as stored. */
  bytesAfter: number;
  ms: number;
}
