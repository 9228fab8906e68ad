/**
 * Gesso's weightless ONNX templates (models/templates/make_templates.py):
 * per component a graph whose every weight is an external-data reference
 * into `model.onnx_data` at a fixed offset, and a name map giving each
 * weight its module name, diffusers key, ldm key and layout.
 */

export type Family = 'sd15' | 'sd21';
export type Layout = 'ldm' | 'diffusers';
export type TemplateComponent = 'unet' | 'vae_decoder' | 'vae_encoder' | 'text_encoder';

export const TEMPLATE_COMPONENTS: readonly TemplateComponent[] = [
  'unet',
  'vae_decoder',
  'vae_encoder',
  'text_encoder',
];

export interface TemplateEntry {
  /** The initializer's name in the template graph. */
  onnx: string;
  /** Its dims in the graph. */
  dims: number[];
  /** ONNX data type: 10 float16, 1 float32. */
  dataType: number;
  /** Place in the component's data file. */
  offset: number;
  length: number;
  /** The graph holds the diffusers [out, in] weight as [in, out] (a MatMul weight). */
  transpose: boolean;
  /** Gesso's module name (diffusers' without the component prefix). */
  module: string;
  /** The diffusers tensor's shape. */
  shape: number[];
  diffusers: string;
  ldm: string;
  ldmShape: number[];
  /** OpenCLIP: which third of the stacked q/k/v rows (`in_proj_weight`) this is; else null. */
  ldmThird: number | null;
}

export interface TemplateMap {
  family: Family;
  width: 'full' | 'reduced';
  component: TemplateComponent;
  graph: string;
  data: string;
  dataBytes: number;
  entries: TemplateEntry[];
}

/** A template with its graphs' bytes: what an import needs besides the checkpoint. */
export interface Template {
  family: Family;
  width: 'full' | 'reduced';
  components: Record<TemplateComponent, { graph: Uint8Array; map: TemplateMap }>;
}

/** Where a pack keeps each component (the catalog's paths). */
export const PACK_PATHS: Record<TemplateComponent, { graph: string; data: string }> = {
  unet: { graph: 'unet/model.onnx', data: 'unet/model.onnx_data' },
  vae_decoder: { graph: 'vae_decoder/model.onnx', data: 'vae_decoder/model.onnx_data' },
  vae_encoder: { graph: 'vae_encoder/model.onnx', data: 'vae_encoder/model.onnx_data' },
  text_encoder: { graph: 'text_encoder/model.onnx', data: 'text_encoder/model.onnx_data' },
};

/** The checkpoint key an entry reads in a layout. */
export function sourceKey(entry: TemplateEntry, layout: Layout): string {
  return layout === 'ldm' ? entry.ldm : entry.diffusers;
}
