/**
 * The GPU bench's command line (`npm run bench -- --gpu ...` hands its
 * arguments here; scripts/gpu-run.sh runs this file bundled on its own).
 */

import { benchGpu } from './gpu';

export async function main(args: readonly string[]): Promise<void> {
  const option = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
  };
  const width = option('--width', 'reduced');
  if (width !== 'reduced' && width !== 'full') throw new Error('--width is reduced or full');
  await benchGpu({
    json: args.includes('--json'),
    width,
    packs: option('--packs', 'sd-turbo,lcm').split(','),
  });
}
