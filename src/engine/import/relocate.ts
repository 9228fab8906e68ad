/**
 * A template graph with some weights pointing elsewhere: each moved
 * initializer's external_data (location, offset, length) replaced, every
 * other field, node and tensor kept. This is how a LoRA variant refers to
 * the tensors it did not touch in the pack's own data file and to the ones
 * it rewrote in a small file of its own.
 */

import { GessoError } from '../../shared/errors';
import { DataLocation, type NodeProto } from '../../shared/onnx/schema';
import { walkModel } from '../../shared/onnx/walk';
import type { Field } from '../../shared/onnx/wire';
import { writeModel, type TensorParts } from '../../shared/onnx/write';
import { concatBytes } from '../../shared/concat-bytes';

export interface Move {
  location: string;
  offset: number;
  length: number;
}

export async function relocateGraph(
  graph: Uint8Array,
  moves: ReadonlyMap<string, Move>,
): Promise<Uint8Array> {
  const fields: Field[] = [];
  const graphFields: Field[] = [];
  const nodes: NodeProto[] = [];
  const initializers: TensorParts[] = [];
  let moved = 0;
  for await (const event of walkModel([graph])) {
    if (event.kind === 'model-field') fields.push(event.field);
    else if (event.kind === 'graph-field') graphFields.push(event.field);
    else if (event.kind === 'node') nodes.push(event.node);
    else if (event.kind === 'initializer') {
      const move = moves.get(event.tensor.name ?? '');
      const header = { ...event.tensor };
      if (move) {
        moved++;
        header.dataLocation = DataLocation.EXTERNAL;
        header.externalData = [
          { key: 'location', value: move.location },
          { key: 'offset', value: String(move.offset) },
          { key: 'length', value: String(move.length) },
        ];
      }
      const payload = event.payload
        ? {
            field: event.payload.field,
            length: event.payload.length,
            bytes: await event.payload.read(),
          }
        : null;
      initializers.push({ header, payload: move ? null : payload });
    }
  }
  if (moved !== moves.size)
    throw new GessoError(
      'internal',
      `Only ${moved} of ${moves.size} weights to move are in the graph.`,
    );
  const out: Uint8Array[] = [];
  for await (const chunk of writeModel({
    fields,
    graph: { nodes, initializers, fields: graphFields },
  }))
    out.push(chunk);
  return concatBytes(out);
}
