/** Whether a download fits before it starts: pure, with the numbers in the refusal. */

import { formatBytes } from '../../src/shared/format';

export interface SpaceEstimate {
  usage: number;
  quota: number;
}

export type SpaceVerdict =
  { ok: true; freeBytes: number } | { ok: false; freeBytes: number; message: string };

export function checkSpace(
  name: string,
  needBytes: number,
  estimate: SpaceEstimate | null,
): SpaceVerdict {
  if (!estimate) return { ok: true, freeBytes: Infinity };
  const freeBytes = Math.max(0, estimate.quota - estimate.usage);
  if (needBytes <= freeBytes) return { ok: true, freeBytes };
  return {
    ok: false,
    freeBytes,
    message: `${name} needs ${formatBytes(needBytes)}, ${formatBytes(freeBytes)} free. Delete other packs or images, or free space on this device, then try again.`,
  };
}
