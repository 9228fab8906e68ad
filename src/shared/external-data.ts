/**
 * ONNX external data: exports over protobuf's 2 GB limit keep their weights in
 * a file beside the model (`unet/model.onnx` + `unet/model.onnx_data`). The
 * store downloads it with its model; the engine hands it to onnxruntime.
 */

/** The names an external-data file of the model at `modelPath` may have. */
export function externalDataCandidates(modelPath: string): string[] {
  return [`${modelPath}_data`, `${modelPath}.data`];
}
