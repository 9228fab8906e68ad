/**
 * A pack big enough for a conversion to take seconds in Chromium: the LCM
 * fixture pack with float32 Gather tables added to its UNet (used by a node
 * whose output nothing reads, so images are the fixture's), served by a
 * PackHost as a user's pack.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataType, TensorField } from '../../../src/shared/onnx/schema';
import { writeModel } from '../../../src/shared/onnx/write';
import { collectAsync, parseModel } from '../../unit/shared/onnx/helpers';
import { FIXTURES } from '../engine/serve';
import type { PackHost, TestPack } from '../store/pack-host';
import { addFixtureCopy } from './fixture-copy';

const LCM = join(FIXTURES, 'lcm');

/** The fixture UNet plus `tables` float32 tables of rows x cols, each gathered by one node. */
export async function bigUnet(tables: number, rows: number, cols: number): Promise<Uint8Array> {
  const model = await parseModel(new Uint8Array(readFileSync(join(LCM, 'unet/model.int64.onnx'))));
  const graph = model.graph!;
  const index = new Uint8Array(8); // int64 [0]
  graph.initializers.push({
    header: { name: 'big_index', dims: [1], dataType: DataType.INT64, externalData: [], other: [] },
    payload: { field: TensorField.rawData, length: 8, bytes: index },
  });
  for (let t = 0; t < tables; t++) {
    const values = new Float32Array(rows * cols);
    for (let i = 0; i < values.length; i++) values[i] = Math.sin(i * 0.001 + t) * 0.1;
    const bytes = new Uint8Array(values.buffer);
    graph.nodes.push({
      input: [`big_table_${t}`, 'big_index'],
      output: [`big_row_${t}`],
      name: `big_gather_${t}`,
      opType: 'Gather',
      attribute: [],
      other: [],
    });
    graph.initializers.push({
      header: {
        name: `big_table_${t}`,
        dims: [rows, cols],
        dataType: DataType.FLOAT,
        externalData: [],
        other: [],
      },
      payload: { field: TensorField.rawData, length: bytes.length, bytes },
    });
  }
  return collectAsync(writeModel(model));
}

/** Adds the big pack to `host` ("Test fixture: lcm (big)", one float32 variant). */
export async function addBigPack(
  host: PackHost,
  baseUrl: string,
  options = { tables: 8, rows: 2048, cols: 4096 },
): Promise<TestPack> {
  const unet = await bigUnet(options.tables, options.rows, options.cols);
  return addFixtureCopy(host, baseUrl, {
    id: 'fixture-lcm-big',
    name: 'Test fixture: lcm (big)',
    variant: 'int64',
    replace: { 'unet/model.int64.onnx': unet },
    patch: (variant) => ({
      ...variant,
      requires: { ...variant.requires, memoryBytes: 3 * unet.length },
    }),
  });
}
