/**
 * Cross-attention maps for "explain" mode. `findAttention` reads a UNet's
 * graph and names the Softmax nodes whose probabilities are cross-attention
 * (image queries over text tokens), telling them from self-attention by the
 * graph's structure alone: the scores' keys are a projection of the text
 * input. `withExtraOutputs` writes a copy of a model whose graph also
 * outputs chosen values; everything else (weights, external-data references,
 * opsets, metadata) is passed through as it is.
 *
 * Over 300 lines because the structural match needs its own graph index
 * (producers, constants, inputs, element types inferred along the graph).
 */

import { GessoError } from '../errors';
import { constantValueHeader, decodeValueInfo, type ValueInfo } from './graph-info';
import { DataType, GraphField, type NodeProto } from './schema';
import { walkModel } from './walk';
import { WireType, corrupt, lenFieldSize, type Field } from './wire';
import { encodeValueInfo, modelSize, writeModel, type ModelParts } from './write';

export interface AttentionLayout {
  /** Output names of the cross-attention Softmax nodes, in graph order. */
  crossAttention: string[];
  /** The graph computes attention in fused operators (com.microsoft Attention / MultiHeadAttention, ONNX Attention, ...) so no probabilities exist to read. */
  fused: boolean;
}

/** The text conditioning input of a diffusers UNet export. */
const TEXT_INPUT = 'encoder_hidden_states';

/** Ops between the scores MatMul and the Softmax (scale, mask, dtype). */
const SCALE_OPS = new Set(['Mul', 'Div', 'Add', 'Cast']);
const SCALE_HOPS = 4;
/** Ops that compute attention scores from queries and keys. */
const SCORE_OPS = new Set(['MatMul', 'FusedMatMul']);
/** Ops that only reshape or retype the keys on their way from the projection. */
const LAYOUT_OPS = new Set(['Transpose', 'Reshape', 'Unsqueeze', 'Squeeze', 'Cast', 'Identity']);
/** Ops that scale or bias the keys when one operand is a constant. */
const AFFINE_OPS = new Set(['Mul', 'Div', 'Add']);
const KEY_HOPS = 8;
/** Ops that project hidden states to keys (quantized forms included: Gesso's own int4 copy uses MatMulNBits). */
const PROJECTION_OPS = new Set([
  'MatMul',
  'Gemm',
  'MatMulNBits',
  'FusedMatMul',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
]);
/** Ops that pass the text states on unchanged but for their encoding. */
const TEXT_PASS_OPS = new Set(['Cast', 'Identity', 'DynamicQuantizeLinear']);
const FUSED_OPS = new Set([
  'Attention',
  'MultiHeadAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'GroupQueryAttention',
  'SparseAttention',
  'DecoderMaskedMultiHeadAttention',
]);

export interface GraphIndex {
  nodes: NodeProto[];
  producers: Map<string, NodeProto>;
  /** Initializers and Constant outputs. */
  constants: Set<string>;
  inputs: ValueInfo[];
  outputs: string[];
  /** Element types stated by the model (inputs, outputs, value_info, initializers), then inferred. */
  types: Map<string, number>;
}

export interface ParsedModel {
  parts: ModelParts & { graph: NonNullable<ModelParts['graph']> };
  graph: GraphIndex;
}

/** The model's cross-attention Softmax outputs; the model is read once, in memory, never run. */
export async function findAttention(model: Uint8Array): Promise<AttentionLayout> {
  const { graph } = await parseModel(model);
  const text = textInput(graph);
  const crossAttention: string[] = [];
  for (const node of graph.nodes) {
    if (node.opType !== 'Softmax' || !node.output[0] || text === undefined) continue;
    const scores = scoresOf(graph, node.input[0], SCALE_HOPS);
    const operands = scores?.input.slice(0, 2) ?? [];
    if (operands.some((x) => keysFromText(graph, x, text, KEY_HOPS))) {
      crossAttention.push(node.output[0]);
    }
  }
  const fused =
    crossAttention.length === 0 && graph.nodes.some((n) => FUSED_OPS.has(n.opType ?? ''));
  return { crossAttention, fused };
}

/** A copy of `model` whose graph also outputs `names` (float or float16, shape left free). Initializers, external-data references, opsets and metadata unchanged. */
export async function withExtraOutputs(
  model: Uint8Array,
  names: readonly string[],
): Promise<Uint8Array> {
  const { parts, graph } = await parseModel(model);
  const present = new Set(graph.outputs);
  for (const name of names) {
    if (present.has(name)) continue;
    present.add(name);
    if (!graph.producers.has(name)) {
      throw new GessoError('internal', `The model computes no value named "${name}" to output.`);
    }
    const type = elemTypeOf(graph, name);
    if (type === undefined) {
      throw new GessoError('internal', `The type of the model's value "${name}" is unknown.`);
    }
    parts.graph.fields.push({
      no: GraphField.output,
      wire: WireType.LEN,
      value: encodeValueInfo(name, type),
    });
  }
  const out = new Uint8Array(modelSize(parts));
  let at = 0;
  for await (const chunk of writeModel(parts)) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/* ---- Reading the model ---- */

/**
 * The model as writer parts plus an index of its graph. Nodes are kept as
 * their original bytes and tensor values as views of `model`: nothing is
 * re-encoded but the fields the writer must order.
 */
export async function parseModel(model: Uint8Array): Promise<ParsedModel> {
  const graph: GraphIndex = {
    nodes: [],
    producers: new Map(),
    constants: new Set(),
    inputs: [],
    outputs: [],
    types: new Map(),
  };
  const parts: ModelParts = { fields: [] };
  let graphs = 0;
  for await (const event of walkModel([model])) {
    switch (event.kind) {
      case 'model-field':
        parts.fields.push(event.field);
        break;
      case 'graph-start':
        if (++graphs > 1) throw corrupt('it holds two graphs');
        parts.graph = { nodes: [], initializers: [], fields: [] };
        break;
      case 'graph-end':
        break;
      case 'graph-field':
        parts.graph!.fields.push(event.field);
        indexGraphField(graph, event.field);
        break;
      case 'node': {
        const end = event.offset + lenFieldSize(GraphField.node, event.length);
        parts.graph!.nodes.push(model.subarray(end - event.length, end));
        indexNode(graph, event.node);
        break;
      }
      case 'initializer': {
        const { tensor, payload } = event;
        const bytes =
          payload && payload.offset >= 0
            ? model.subarray(payload.offset, payload.offset + payload.length)
            : await payload?.read();
        parts.graph!.initializers.push({
          header: tensor,
          payload: payload && bytes ? { field: payload.field, length: bytes.length, bytes } : null,
        });
        if (tensor.name !== undefined) {
          graph.constants.add(tensor.name);
          if (tensor.dataType !== undefined) graph.types.set(tensor.name, tensor.dataType);
        }
        break;
      }
    }
  }
  if (!parts.graph) throw corrupt('it holds no graph');
  return { parts: parts as ParsedModel['parts'], graph };
}

function indexNode(graph: GraphIndex, node: NodeProto): void {
  graph.nodes.push(node);
  for (const output of node.output) {
    if (!output) continue;
    graph.producers.set(output, node);
    if (node.opType === 'Constant') graph.constants.add(output);
  }
}

function indexGraphField(graph: GraphIndex, field: Field): void {
  const kinds: number[] = [GraphField.input, GraphField.output, GraphField.valueInfo];
  if (field.wire !== WireType.LEN || !kinds.includes(field.no)) return;
  const info = decodeValueInfo(field.value as Uint8Array);
  if (info.elemType !== undefined) graph.types.set(info.name, info.elemType);
  if (field.no === GraphField.input) graph.inputs.push(info);
  if (field.no === GraphField.output) graph.outputs.push(info.name);
}

/* ---- Finding cross-attention ---- */

const FLOAT_TYPES: ReadonlySet<number> = new Set([
  DataType.FLOAT,
  DataType.FLOAT16,
  DataType.BFLOAT16,
]);

/** `encoder_hidden_states`, else the first 3-D float input with a fixed token count in the middle. */
function textInput(graph: GraphIndex): string | undefined {
  const inputs = graph.inputs.filter((i) => !graph.constants.has(i.name));
  if (inputs.some((i) => i.name === TEXT_INPUT)) return TEXT_INPUT;
  return inputs.find(
    (i) =>
      i.elemType !== undefined &&
      FLOAT_TYPES.has(i.elemType) &&
      i.dims?.length === 3 &&
      typeof i.dims[1] === 'number' &&
      i.dims[1] > 1,
  )?.name;
}

/** The MatMul whose scores reach this value through at most `hops` scale ops. */
function scoresOf(graph: GraphIndex, name: string | undefined, hops: number): NodeProto | null {
  const node = name ? graph.producers.get(name) : undefined;
  if (!node) return null;
  if (SCORE_OPS.has(node.opType ?? '')) return node;
  if (hops === 0 || !SCALE_OPS.has(node.opType ?? '')) return null;
  for (const input of node.input) {
    if (!input || graph.constants.has(input)) continue;
    const found = scoresOf(graph, input, hops - 1);
    if (found) return found;
  }
  return null;
}

/** Whether `name` is a projection of the text states, reshaped or scaled on the way. */
function keysFromText(graph: GraphIndex, name: string, text: string, hops: number): boolean {
  const node = graph.producers.get(name);
  if (!node || hops < 0) return false;
  const op = node.opType ?? '';
  if (PROJECTION_OPS.has(op)) return isText(graph, node.input[0], text);
  if (LAYOUT_OPS.has(op)) return keysFromText(graph, node.input[0] ?? '', text, hops - 1);
  if (AFFINE_OPS.has(op)) {
    return node.input.some(
      (x) => !!x && !graph.constants.has(x) && keysFromText(graph, x, text, hops - 1),
    );
  }
  return false;
}

/** Whether `name` is the text input itself, or it cast (fp16 exports) or quantized. */
function isText(graph: GraphIndex, name: string | undefined, text: string): boolean {
  for (let hops = 0; name !== undefined && hops <= KEY_HOPS; hops++) {
    if (name === text) return true;
    const node = graph.producers.get(name);
    if (!node || !TEXT_PASS_OPS.has(node.opType ?? '') || node.output[0] !== name) return false;
    name = node.input[0];
  }
  return false;
}

/* ---- Element types ---- */

/** A value's element type: stated, fixed by its producer, or followed back to an input it shares it with. */
function elemTypeOf(graph: GraphIndex, name: string): number | undefined {
  const chain = new Set<string>();
  let current: string | undefined = name;
  let found: number | undefined;
  while (current && !chain.has(current)) {
    found = graph.types.get(current);
    if (found !== undefined) break;
    chain.add(current);
    const step = typeStep(graph.producers.get(current));
    if (typeof step === 'number') {
      found = step;
      break;
    }
    current = step;
  }
  if (found !== undefined) for (const n of chain) graph.types.set(n, found);
  return found;
}

/** The type a node's (first) output has when the node fixes it, else the input it takes it from. */
function typeStep(node: NodeProto | undefined): number | string | undefined {
  if (!node) return undefined;
  switch (node.opType) {
    case 'Cast': {
      const to = node.attribute.find((a) => a.name === 'to')?.i;
      return to === undefined ? undefined : Number(to);
    }
    case 'Constant':
      return constantType(node);
    case 'CastLike':
    case 'DequantizeLinear':
      return node.input[1];
    case 'MatMulIntegerToFloat':
      return node.input[2];
    case 'Shape':
    case 'Size':
      return DataType.INT64;
    default:
      return node.input[0] || undefined;
  }
}

function constantType(node: NodeProto): number | undefined {
  const attribute = node.attribute[0];
  switch (attribute?.name) {
    case 'value':
      return constantValueHeader(node)?.dataType;
    case 'value_float':
    case 'value_floats':
      return DataType.FLOAT;
    case 'value_int':
    case 'value_ints':
      return DataType.INT64;
    default:
      return undefined;
  }
}
