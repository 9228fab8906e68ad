/** A small valid manifest for tests; files are whatever the test supplies. */

import type { ManifestFileInput, PackManifestInput } from '../../../src/store/validate-manifest';

export function testManifest(
  id: string,
  files: ManifestFileInput[],
  over: Partial<PackManifestInput> = {},
): PackManifestInput {
  const paths = files.map((f) => f.path);
  const [a = 'a.onnx', b = a, c = a] = paths;
  return {
    format: 'gesso-pack@1',
    id,
    name: `Test pack ${id}`,
    version: '1.0.0',
    description: 'A pack made by the tests.',
    pipeline: 'demo',
    image: { width: 64, height: 64 },
    latent: { channels: 4, downscale: 8, scalingFactor: 1, decoderOutput: 'minus-one-to-one' },
    defaults: { steps: 4, guidance: 4 },
    ranges: { steps: [1, 8], guidance: [1, 8] },
    scheduler: {
      kind: 'lcm',
      trainTimesteps: 1000,
      betaStart: 0.00085,
      betaEnd: 0.012,
      betaSchedule: 'scaled_linear',
      originalSteps: 50,
      timestepScaling: 10,
    },
    tokenizer: {
      kind: 'clip-bpe',
      vocab: a,
      merges: a,
      maxLength: 77,
      bosTokenId: 49406,
      eosTokenId: 49407,
      padTokenId: 49407,
    },
    variants: [
      {
        id: 'main',
        label: 'Main',
        default: true,
        backends: ['wasm'],
        requires: {
          shaderF16: false,
          maxStorageBufferBindingSize: 1,
          maxBufferSize: 1,
          memoryBytes: 1,
        },
        components: { textEncoder: a, unet: b, vaeDecoder: c },
      },
    ],
    files,
    license: {
      spdx: 'MIT',
      name: 'MIT',
      url: 'https://opensource.org/license/mit',
      restricted: false,
      summary: 'Free.',
    },
    attribution: 'The tests.',
    ...over,
  };
}
