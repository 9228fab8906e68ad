/** What a first visit shows: prompts the demo pack draws well, and the real models with their sizes. Pure. */

import { formatBytes } from '../../shared/format';
import type { PackManifestInput } from '../../store/validate-manifest';

/** Prompts the demo pack draws well (models/MODEL_CARD.md: shapes, faces, flags). */
export const EXAMPLE_PROMPTS = [
  'red heart',
  'blue circle',
  'green square',
  'cat face',
  'flag: Japan',
];

type Sized = Pick<PackManifestInput, 'name' | 'files'>;

/** "SD-Turbo (2.5 GB)": a pack's name and the bytes its manifest lists ("at least" where some sizes are unknown). */
export function packWithSize(manifest: Sized): string {
  const sizes = manifest.files.map((f) => (f as { size?: number | null }).size);
  const known = sizes.reduce<number>((sum, size) => sum + (typeof size === 'number' ? size : 0), 0);
  if (known === 0) return manifest.name;
  const partial = sizes.some((size) => typeof size !== 'number');
  return `${manifest.name} (${partial ? 'at least ' : ''}${formatBytes(known)})`;
}

/** One line about the real models on the Models screen. */
export function modelsLine(manifests: Sized[]): string {
  const named = manifests.map(packWithSize);
  return named.length === 0
    ? 'Real models can be added on the Models screen.'
    : `Real models are on Models: ${named.join(', ')}.`;
}
