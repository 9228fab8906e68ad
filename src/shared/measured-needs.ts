/**
 * A variant's needs from its model files, measured at install: each
 * model's largest weight and its largest activation at the pack's image
 * size (read from the ONNX graph, batch 1). Pure: the rule that turns the
 * measures into the requirements fit.ts judges.
 */

import type { ModelSummary } from './onnx/inspect';
import type { ComponentName, VariantRequirements } from './pack-manifest';

export interface ModelMeasure {
  component: ComponentName;
  /** Bytes of all its weights as stored. */
  weightBytes: number;
  largestWeightBytes: number;
  largestActivationBytes: number;
  largestActivationName: string | null;
  /** The largest activation with self-attention sliced (ModelSummary.slicedActivation), where anything sliced. */
  slicedActivationBytes?: number;
  /** Values whose size could not be inferred (an operator the inference does not cover). */
  unknownValues: number;
}

/** One model's measure from its summary (inspect.ts). */
export function measureOf(
  component: ComponentName,
  { weights, activation, slicedActivation }: ModelSummary,
): ModelMeasure {
  return {
    ...(slicedActivation ? { slicedActivationBytes: slicedActivation.bytes } : {}),
    component,
    weightBytes: weights.totalBytes,
    largestWeightBytes: weights.largestBytes,
    largestActivationBytes: activation.bytes,
    largestActivationName: activation.name,
    unknownValues: activation.unknown,
  };
}

/**
 * Requirements with measured figures. The largest buffer a GPU binds is the
 * largest weight or activation of any model; where every value was sized,
 * it replaces the declared figure (which may be a guess either way), else
 * the larger of the two counts. Memory is at least every weight once plus
 * the largest activation (a floor: onnxruntime holds several at a time).
 * Where slicing self-attention makes the largest buffer smaller, that
 * figure is kept too (slicedBufferSize), for GPUs that cannot bind the whole.
 */
export function measuredRequirements(
  declared: VariantRequirements,
  measures: readonly ModelMeasure[],
): VariantRequirements {
  if (measures.length === 0) return declared;
  const largest = Math.max(
    ...measures.map((m) => Math.max(m.largestWeightBytes, m.largestActivationBytes)),
  );
  const complete = measures.every((m) => m.unknownValues === 0);
  const buffer = (stated: number) => (complete ? largest : Math.max(stated, largest));
  const weights = measures.reduce((n, m) => n + m.weightBytes, 0);
  const activation = Math.max(...measures.map((m) => m.largestActivationBytes));
  const slicedLargest = Math.max(
    ...measures.map((m) =>
      Math.max(m.largestWeightBytes, m.slicedActivationBytes ?? m.largestActivationBytes),
    ),
  );
  const measured: VariantRequirements = {
    ...declared,
    maxStorageBufferBindingSize: buffer(declared.maxStorageBufferBindingSize),
    maxBufferSize: buffer(declared.maxBufferSize),
    memoryBytes: Math.max(declared.memoryBytes, weights + activation),
  };
  // Only a measure says what slicing leaves; a declared figure is dropped.
  delete measured.slicedBufferSize;
  if (complete && slicedLargest < largest) measured.slicedBufferSize = slicedLargest;
  return measured;
}
