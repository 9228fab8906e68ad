/**
 * ONNX external data: exports over protobuf's 2 GB limit keep their weights in
 * a file beside the model (`unet/model.onnx` + `unet/model.onnx_data`). The
 * store downloads it with its model; the engine hands it to onnxruntime.
 */

/** A LoRA variant made on the device (engine/import/apply-lora.ts): `unet/lora-<id>.onnx`. */
const LORA_GRAPH = /^(.*\/)?lora-[a-z0-9]+\.onnx$/;

/**
 * The names an external-data file of the model at `modelPath` may have. A
 * LoRA variant's graph keeps only the weights it changed in its own data
 * file and reads every other weight from its folder's `model.onnx_data`.
 */
export function externalDataCandidates(modelPath: string): string[] {
  const own = [`${modelPath}_data`, `${modelPath}.data`];
  const lora = LORA_GRAPH.exec(modelPath);
  return lora ? [...own, `${lora[1] ?? ''}model.onnx_data`] : own;
}
