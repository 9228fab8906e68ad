/** How an imported pack's weights are kept, in words for its card and the import's result (pure). */

import type { ImportedFrom } from '../../shared/pack-manifest';

/** "int8 (fp16 would not run on this device: …)" or "fp16"; null for packs imported before this was kept. */
export function importedWeightsText(
  imported: Pick<ImportedFrom, 'weights' | 'int8Reason'>,
): string | null {
  if (imported.weights === 'int8')
    return imported.int8Reason
      ? `int8, because fp16 would not run on this device (${shortReason(imported.int8Reason)})`
      : 'int8, because fp16 would not run on this device';
  return imported.weights === 'fp16' ? 'fp16' : null;
}

/** The fit verdict's clauses without its "Won't run here:" and "To run it: …" framing. */
function shortReason(verdict: string): string {
  return verdict
    .replace(/^Won't run here:\s*/, '')
    .replace(/\.\s*To run it:.*$/s, '')
    .replace(/\.$/, '');
}

/** The progress line's lead for an import's stage. */
export function importStageText(stage: 'int8' | undefined): string {
  return stage === 'int8' ? 'Making the int8 weights: ' : '';
}
