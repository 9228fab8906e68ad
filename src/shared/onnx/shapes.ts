/**
 * Shape inference over an ONNX graph at one concrete input size: every
 * value's dims and element type, and the values of the small integer
 * tensors exports compute shapes with (Shape -> Gather -> Concat ->
 * Reshape). Pure. Used to find a model's largest activation at the pack's
 * image size before it is loaded (the buffer a GPU must bind for it).
 * The operator rules are in shape-rules.ts; a value whose operator is not
 * covered (or whose inputs are not known) stays unknown and is counted,
 * never guessed.
 */

import { elementCount, rawByteLength } from './schema';
import { inferNode } from './shape-rules';
import { UNKNOWN, type ShapeGraph, type TensorFact } from './shape-values';

export { MAX_VALUES, smallValues, type ShapeGraph, type TensorFact } from './shape-values';

/** Every value's fact, with symbolic input dims taken from `dimValues` (unnamed ones stay unknown). */
export function inferShapes(
  graph: ShapeGraph,
  dimValues: Readonly<Record<string, number>>,
): Map<string, TensorFact> {
  const facts = new Map<string, TensorFact>(graph.initializers);
  for (const input of graph.inputs) {
    if (facts.has(input.name)) continue; // an initializer that is also an input: its own dims
    const dims = input.dims?.map((d) => (typeof d === 'string' ? symbolValue(d, dimValues) : d));
    facts.set(input.name, {
      dims: dims && dims.every((d) => d !== undefined) ? (dims as number[]) : null,
      type: input.elemType,
    });
  }
  for (const node of graph.nodes) {
    const ins = node.input.map((name) => (name ? (facts.get(name) ?? UNKNOWN) : UNKNOWN));
    let outs: TensorFact[];
    try {
      outs = inferNode(node, ins);
    } catch {
      outs = [];
    }
    node.output.forEach((name, i) => {
      if (name) facts.set(name, outs[i] ?? UNKNOWN);
    });
  }
  return facts;
}

/** A symbolic dim's value: a name, or a name times or over a whole number ("height/2", as torch exports write). */
function symbolValue(symbol: string, values: Readonly<Record<string, number>>): number | undefined {
  if (symbol in values) return values[symbol];
  const m = /^(\w+)\s*([*/])\s*(\d+)$/.exec(symbol);
  const base = m ? values[m[1]!] : undefined;
  if (base === undefined) return undefined;
  return m![2] === '*' ? base * Number(m![3]) : Math.floor(base / Number(m![3]));
}

export interface LargestActivation {
  name: string | null;
  bytes: number;
  /** Node outputs whose size could not be inferred. */
  unknown: number;
  /** Node outputs in all. */
  count: number;
}

/** The largest value a node computes (initializers and inputs aside). */
export function largestActivation(
  graph: ShapeGraph,
  facts: ReadonlyMap<string, TensorFact>,
): LargestActivation {
  const found: LargestActivation = { name: null, bytes: 0, unknown: 0, count: 0 };
  for (const node of graph.nodes)
    for (const name of node.output) {
      if (!name) continue;
      found.count++;
      const bytes = byteSize(facts.get(name));
      if (bytes === undefined) found.unknown++;
      else if (bytes > found.bytes) Object.assign(found, { name, bytes });
    }
  return found;
}

export function byteSize(fact: TensorFact | undefined): number | undefined {
  if (!fact?.dims || fact.type === undefined) return undefined;
  return rawByteLength(fact.type, elementCount(fact.dims));
}
