/**
 * ModelSession over onnxruntime (web or node: both expose the
 * onnxruntime-common API), with onnxruntime's failures turned into
 * GessoErrors that say what to do.
 */

import type * as Ort from 'onnxruntime-common';
import { GessoError } from '../shared/errors';
import type { ExternalData, ModelSession, Value, ValueInfo } from './session';
import { isDeviceTensor } from './session';
import type { DType, TensorData } from './tensors';

export type OrtApi = Pick<typeof Ort, 'InferenceSession' | 'Tensor'>;

export interface OrtSessionOptions {
  executionProviders?: Ort.InferenceSession.SessionOptions['executionProviders'];
  /** Where the session runs, for error messages and device outputs. */
  backend?: 'wasm' | 'webgpu' | 'cpu';
  freeDimensionOverrides?: Record<string, number>;
  /** Outputs to leave on the GPU (WebGPU only), returned as DeviceTensor. */
  deviceOutputs?: readonly string[];
  /** Weights kept outside the .onnx file, by the name the model refers to. */
  externalData?: ExternalData[];
  /**
   * The caller hands the model's bytes (and external data) over: once the
   * session holds its own copy they are detached, so the browser frees them
   * at once instead of at a late garbage collection (an 828 MiB UNet file
   * was seen alive until the first image's VAE decode).
   */
  consumeBytes?: boolean;
}

/** Frees a buffer now that nothing may read it again; views into a larger or shared buffer are left alone. */
export function detachBytes(view: Uint8Array): boolean {
  const buffer = view.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (typeof buffer.transfer !== 'function') return false; // SharedArrayBuffer, or an older browser
  if (view.byteOffset !== 0 || view.byteLength !== buffer.byteLength) return false;
  buffer.transfer(0);
  return true;
}

function toInfo(meta: Ort.InferenceSession.ValueMetadata): ValueInfo {
  if (!meta.isTensor) return { name: meta.name, type: 'non-tensor', shape: [] };
  return {
    name: meta.name,
    type: meta.type,
    shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))),
  };
}

/** Maps an onnxruntime failure to the user-facing error it is. */
export function classifyOrtError(error: unknown, label: string, backend: string): GessoError {
  if (error instanceof GessoError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const cause = { cause: error };
  if (
    /out of memory|\boom\b|bad_alloc|allocation failed|Cannot allocate|memory access out of bounds|RangeError: Array buffer allocation/i.test(
      message,
    )
  )
    return new GessoError(
      'out-of-memory',
      `The device ran out of memory while running the ${label}. Close other tabs or apps, or choose a smaller model variant, and try again.`,
      cause,
    );
  if (/device (was )?lost|GPUDevice|context lost|DXGI_ERROR_DEVICE/i.test(message))
    return new GessoError(
      'backend-lost',
      `The graphics processor stopped responding while running the ${label}. Reload the page, or switch to WebAssembly in Settings.`,
      cause,
    );
  if (
    /not implemented|NOT_IMPLEMENTED|Could not find an implementation|unsupported|no kernel|opset/i.test(
      message,
    )
  )
    return new GessoError(
      'unsupported-operator',
      `The ${label} uses an operation that ${backend === 'webgpu' ? 'WebGPU' : 'this runtime'} cannot run here. Try the other backend in Settings or a different model variant.`,
      cause,
    );
  if (
    /protobuf|parse|invalid model|load model|Failed to load|corrupt|INVALID_GRAPH|INVALID_PROTOBUF/i.test(
      message,
    )
  )
    return new GessoError(
      'pack-corrupt',
      `The ${label} file is damaged or not an ONNX model. Delete the model pack in Models and download it again.`,
      cause,
    );
  return new GessoError('internal', `Running the ${label} failed: ${message}`, cause);
}

/**
 * A weight-only int8 model dequantizes its weights on every run unless
 * onnxruntime folds its DequantizeLinear nodes at load, which it skips by
 * default to keep QDQ patterns for quantized kernels. For a small model the
 * fp32 copy is cheap and a run is faster (demo pack UNet on wasm: 10.5 ms ->
 * 8.7 ms, as fast as the fp32 variant); a large one (an SD UNet: gigabytes once
 * dequantized) keeps its weights int8. So does any model whose weights are in
 * external data (the int8 copies made on the device of models over 64 MB are
 * written that way), whatever its size. Folding costs memory: onnxruntime-web's
 * heap per session of the demo UNet is 14 MB in fp32, 16-18 MB int8 folded and
 * 6-7 MB int8 unfolded (tests/unit/engine/convert/session-heap.test.ts).
 */
export const FOLD_QUANTIZED_WEIGHTS_MAX_BYTES = 16 * 1024 * 1024;

export function foldsQuantizedWeights(modelBytes: number, externalData?: ExternalData[]): boolean {
  return modelBytes <= FOLD_QUANTIZED_WEIGHTS_MAX_BYTES && !externalData?.length;
}

/**
 * The provider for a backend. WebGPU's layout is set explicitly: the
 * typings document NCHW as the default while the C++ provider defaults to
 * NHWC, and NHWC measured faster (the demo pack's fp16 VAE decoder on
 * onnxruntime-node's WebGPU provider, lavapipe: 100-124 ms a run warm against
 * 144-192 ms in NCHW, two runs of five each).
 */
function executionProvider(
  backend: NonNullable<OrtSessionOptions['backend']>,
): Ort.InferenceSession.ExecutionProviderConfig {
  return backend === 'webgpu' ? { name: 'webgpu', preferredLayout: 'NHWC' } : backend;
}

export async function createOrtSession(
  ort: OrtApi,
  bytes: Uint8Array,
  label: string,
  options: OrtSessionOptions = {},
): Promise<ModelSession> {
  const backend = options.backend ?? 'wasm';
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: options.executionProviders ?? [executionProvider(backend)],
      graphOptimizationLevel: 'all',
      ...(foldsQuantizedWeights(bytes.byteLength, options.externalData)
        ? { extra: { session: { disable_quant_qdq: '1' } } }
        : {}),
      ...(options.externalData?.length ? { externalData: options.externalData } : {}),
      ...(options.freeDimensionOverrides
        ? { freeDimensionOverrides: options.freeDimensionOverrides }
        : {}),
      ...(backend === 'webgpu' && options.deviceOutputs?.length
        ? {
            preferredOutputLocation: Object.fromEntries(
              options.deviceOutputs.map((name) => [name, 'gpu-buffer' as const]),
            ),
          }
        : {}),
    });
  } catch (error) {
    throw classifyOrtError(error, label, backend);
  }
  if (options.consumeBytes)
    for (const view of [bytes, ...(options.externalData ?? []).map((file) => file.data)])
      if (view instanceof Uint8Array) detachBytes(view);
  const inputs = session.inputMetadata.map(toInfo);
  const outputs = session.outputMetadata.map(toInfo);

  return {
    label,
    inputs,
    outputs,
    async run(feeds: Record<string, Value>) {
      const ortFeeds: Record<string, Ort.Tensor> = {};
      for (const [name, value] of Object.entries(feeds)) {
        ortFeeds[name] = isDeviceTensor(value)
          ? (value.handle as Ort.Tensor)
          : new ort.Tensor(value.type, value.data as Ort.Tensor.DataType, value.dims as number[]);
      }
      let results: Ort.InferenceSession.ReturnType;
      try {
        results = await session.run(ortFeeds);
      } catch (error) {
        throw classifyOrtError(error, label, backend);
      }
      const out: Record<string, Value> = {};
      for (const [name, tensor] of Object.entries(results)) {
        if (tensor.location === 'gpu-buffer') {
          out[name] = {
            type: tensor.type as DType,
            dims: [...tensor.dims],
            location: 'gpu-buffer',
            handle: tensor,
            dispose: () => tensor.dispose(),
          };
          continue;
        }
        // A copy: on WebGPU, CPU outputs can be views that a later run overwrites.
        const data = ((await tensor.getData(true)) as TensorData).slice();
        out[name] = { type: tensor.type as DType, dims: [...tensor.dims], data };
      }
      return out;
    },
    release: () => session.release(),
  };
}
