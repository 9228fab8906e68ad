/**
 * What the import form asks about a picked checkpoint, from what its header
 * says (the engine's inspectModel): an SD 2.x file without a prediction
 * type in its metadata needs the person to say which, and SD 2.x has no
 * LCM-LoRA, so the form says so instead of offering one.
 */

import type { InspectModelResult } from '../../engine';

export type Prediction = 'epsilon' | 'v';

export const PREDICTION_CHOICES: readonly { value: Prediction; label: string }[] = [
  { value: 'epsilon', label: 'Epsilon (SD 2.x base)' },
  { value: 'v', label: 'v-prediction (SD 2.x 768)' },
];

export const NO_LCM_FOR_SD2 =
  'This is an SD 2.x model: there is no LCM-LoRA for SD 2.x, so it imports without one and makes images in more steps.';

export interface ImportQuestions {
  /** Ask "Prediction type": the file does not say. */
  askPrediction: boolean;
  /** Offer the LCM-LoRA (SD 1.5, or a file not yet read). */
  offerLcmLora: boolean;
  /** A sentence about the LCM-LoRA, or null. */
  lcmNote: string | null;
}

export function importQuestions(inspected: InspectModelResult | null): ImportQuestions {
  const sd2 = inspected?.family === 'sd21';
  return {
    askPrediction: sd2 && inspected.prediction === null,
    offerLcmLora: !sd2,
    lcmNote: sd2 ? NO_LCM_FOR_SD2 : null,
  };
}

/** The prediction to send with the import: the file's own, else the person's choice; null: not yet chosen. */
export function predictionToSend(
  inspected: InspectModelResult | null,
  chosen: Prediction | null,
): Prediction | null | undefined {
  if (!inspected || inspected.family !== 'sd21') return undefined;
  return inspected.prediction ?? chosen;
}
