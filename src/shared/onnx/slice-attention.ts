/**
 * Sliced attention (models/slice_attention.py, node for node): each
 * written-out self-attention (MatMul, optional scalar scale, Softmax over the
 * last axis, MatMul) runs as row blocks of its queries,
 * concatenated. Softmax works row by row, so the result is the same; the
 * score tensor alive at once is a block's, not the whole [heads, S, S]
 * (320 MiB in float32 for an SD UNet's 4,096 positions at 512x512), which
 * onnxruntime's CPU kernels and the never-shrinking wasm heap would keep.
 * The block bounds are computed in the graph from the queries' shape, so
 * symbolic dimensions stay symbolic. onnxruntime runs one block's chain
 * before the next (its order is a depth-first walk back from the outputs).
 *
 * Cross-attention (keys projected from another tensor, the text) is left
 * whole: it is small, and explain mode reads its probabilities.
 */

import { latentSize } from '../free-dimensions';
import type { PackManifest } from '../pack-manifest';
import { constantValueHeader } from './graph-info';
import { intAttribute } from './quantize';
import { DataType, TensorField, elementCount, type NodeProto } from './schema';
import type { TensorParts } from './write';

/** Query rows per block: 40 MiB of float32 scores per block for an SD UNet's 5 heads over 4,096 keys. */
export const ATTENTION_ROWS_PER_BLOCK = 512;

/**
 * Blocks for a pack whose latent has `positions` cells (its image size): 8
 * for 512x512 SD, 1 (attention left whole) up to 512 positions, where
 * slicing buys nothing and only adds nodes.
 */
export function attentionBlocksFor(positions: number): number {
  return Math.max(1, Math.ceil(positions / ATTENTION_ROWS_PER_BLOCK));
}
/** Blocks for a pack at its own image size (its latent's cells). */
export function packAttentionBlocks(manifest: Pick<PackManifest, 'image' | 'latent'>): number {
  const { height, width } = latentSize(manifest);
  return attentionBlocksFor(height * width);
}

const PREFIX = 'gesso_slice_';
const INT64_MAX = 0x7fffffffffffffffn;

const LAYOUT_OPS = new Set(['Transpose', 'Reshape', 'Unsqueeze', 'Squeeze', 'Cast', 'Identity']);
const AFFINE_OPS = new Set(['Mul', 'Div', 'Add']);
const PROJECTION_OPS = new Set(['MatMul', 'Gemm', 'MatMulNBits', 'FusedMatMul']);
const SOURCE_HOPS = 8;

/** What the rewrite needs to know of the graph besides its nodes. */
export interface GraphFacts {
  /** Element count of each initializer (the ones kept and the ones added). */
  initializerSizes: ReadonlyMap<string, number>;
  /** The graph's output names: a value the graph outputs is never rewritten away. */
  outputs: ReadonlySet<string>;
}

interface Attention {
  first: NodeProto;
  scale: NodeProto | null;
  softmax: NodeProto;
  second: NodeProto;
}

function axisOf(node: NodeProto, fallback: number): number {
  const value = node.attribute.find((a) => a.name === 'axis')?.i;
  return value === undefined ? fallback : Number(value);
}

/** The self-attentions of `nodes`, matched as models/slice_attention.py's find_attentions matches them. */
export function findSelfAttentions(nodes: readonly NodeProto[], facts: GraphFacts): Attention[] {
  const producers = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes) {
    for (const o of n.output) producers.set(o, n);
    for (const i of n.input) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const constant = (name: string) =>
    facts.initializerSizes.has(name) || producers.get(name)?.opType === 'Constant';
  const scalar = (name: string) => {
    const size = facts.initializerSizes.get(name);
    if (size !== undefined) return size === 1;
    const node = producers.get(name);
    if (node?.opType !== 'Constant') return false;
    const kind = node.attribute[0]?.name;
    if (kind === 'value_float' || kind === 'value_int') return true;
    const header = constantValueHeader(node);
    return header !== undefined && elementCount(header.dims) === 1;
  };
  const onlyConsumer = (name: string) => {
    const users = consumers.get(name) ?? [];
    return users.length === 1 && !facts.outputs.has(name) ? users[0] : undefined;
  };
  const projectedFrom = (start: string): string | undefined => {
    let name = start;
    for (let hop = 0; hop < SOURCE_HOPS; hop++) {
      const node = producers.get(name);
      if (!node) return undefined;
      if (PROJECTION_OPS.has(node.opType ?? '')) return node.input[0];
      if (LAYOUT_OPS.has(node.opType ?? '')) name = node.input[0] ?? '';
      else if (AFFINE_OPS.has(node.opType ?? '')) {
        const varying = node.input.slice(0, 2).filter((x) => !constant(x));
        if (varying.length !== 1) return undefined;
        name = varying[0]!;
      } else return undefined;
    }
    return undefined;
  };

  const found: Attention[] = [];
  for (const softmax of nodes) {
    if (softmax.opType !== 'Softmax' || axisOf(softmax, -1) !== -1) continue;
    let scale = producers.get(softmax.input[0] ?? '') ?? null;
    let first = scale;
    if (scale && (scale.opType === 'Mul' || scale.opType === 'Div')) {
      if (onlyConsumer(scale.output[0]!) !== softmax || !scalar(scale.input[1] ?? '')) continue;
      first = producers.get(scale.input[0] ?? '') ?? null;
    } else scale = null;
    if (first?.opType !== 'MatMul' || onlyConsumer(first.output[0]!) !== (scale ?? softmax))
      continue;
    const second = onlyConsumer(softmax.output[0]!);
    if (second?.opType !== 'MatMul' || second.input[0] !== softmax.output[0]) continue;
    const source = projectedFrom(first.input[0] ?? '');
    if (source === undefined || source !== projectedFrom(first.input[1] ?? '')) continue;
    found.push({ first, scale, softmax, second });
  }
  return found;
}

function node(
  opType: string,
  input: string[],
  output: string,
  name: string,
  axis?: number,
): NodeProto {
  const attribute = axis === undefined ? [] : [intAttribute('axis', axis)];
  return { input, output: [output], name, opType, attribute, other: [] };
}

/** The nodes that replace one attention: row blocks of the queries through the same chain, concatenated. */
function slicedNodes(a: Attention, blocks: number): NodeProto[] {
  const [q, keys] = a.first.input as [string, string];
  const values = a.second.input[1]!;
  const out = a.second.output[0]!;
  const base = a.second.name || out;
  const rows = `${out}_rows`;
  const nodes = [
    node('Shape', [q], `${out}_query_shape`, `${base}_query_shape`),
    node('Gather', [`${out}_query_shape`, `${PREFIX}axes`], rows, `${base}_rows`, 0),
  ];
  const bounds = [`${PREFIX}zero`];
  for (let i = 1; i < blocks; i++) {
    nodes.push(
      node(
        'Mul',
        [rows, `${PREFIX}times_${i}`],
        `${out}_rows_times_${i}`,
        `${base}_rows_times_${i}`,
      ),
      node(
        'Div',
        [`${out}_rows_times_${i}`, `${PREFIX}blocks`],
        `${out}_bound_${i}`,
        `${base}_bound_${i}`,
      ),
    );
    bounds.push(`${out}_bound_${i}`);
  }
  bounds.push(`${PREFIX}end`);
  const parts: string[] = [];
  for (let i = 0; i < blocks; i++) {
    const tag = `_block_${i}`;
    nodes.push(
      node(
        'Slice',
        [q, bounds[i]!, bounds[i + 1]!, `${PREFIX}axes`],
        `${out}${tag}_query`,
        `${base}${tag}_query`,
      ),
    );
    let scores = `${out}${tag}_scores`;
    nodes.push(node('MatMul', [`${out}${tag}_query`, keys], scores, `${base}${tag}_scores`));
    if (a.scale) {
      nodes.push(
        node(
          a.scale.opType!,
          [scores, a.scale.input[1]!],
          `${scores}_scaled`,
          `${base}${tag}_scale`,
        ),
      );
      scores += '_scaled';
    }
    nodes.push(
      node('Softmax', [scores], `${out}${tag}_weights`, `${base}${tag}_softmax`, -1),
      node('MatMul', [`${out}${tag}_weights`, values], `${out}${tag}`, `${base}${tag}`),
    );
    parts.push(`${out}${tag}`);
  }
  nodes.push(node('Concat', parts, out, `${base}_blocks`, -2));
  return nodes;
}

function int64Tensor(name: string, value: bigint): TensorParts {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigInt64(0, value, true);
  return {
    header: {
      name: PREFIX + name,
      dims: [1],
      dataType: DataType.INT64,
      externalData: [],
      other: [],
    },
    payload: { field: TensorField.rawData, length: 8, bytes },
  };
}

/** The int64 constants every sliced attention uses (slice_attention.py's shared_initializers, same order). */
function sharedTensors(blocks: number): TensorParts[] {
  const tensors = [
    int64Tensor('axes', -2n),
    int64Tensor('zero', 0n),
    int64Tensor('end', INT64_MAX),
    int64Tensor('blocks', BigInt(blocks)),
  ];
  for (let i = 1; i < blocks; i++) tensors.push(int64Tensor(`times_${i}`, BigInt(i)));
  return tensors;
}

export interface SlicedGraph {
  nodes: NodeProto[];
  /** Initializers to append after the graph's own. */
  tensors: TensorParts[];
  sliced: number;
}

/** `nodes` with every self-attention sliced into `blocks` row blocks (slice_attention.py's slice_attention). */
export function sliceAttention(
  nodes: readonly NodeProto[],
  facts: GraphFacts,
  blocks: number,
): SlicedGraph {
  const found = blocks > 1 ? findSelfAttentions(nodes, facts) : [];
  if (found.length === 0) return { nodes: [...nodes], tensors: [], sliced: 0 };
  const replaced = new Set(found.flatMap((a) => [a.first, a.scale, a.softmax]));
  const atSecond = new Map(found.map((a) => [a.second, a]));
  const out: NodeProto[] = [];
  for (const n of nodes) {
    const attention = atSecond.get(n);
    if (attention) out.push(...slicedNodes(attention, blocks));
    else if (!replaced.has(n)) out.push(n);
  }
  return { nodes: out, tensors: sharedTensors(blocks), sliced: found.length };
}
