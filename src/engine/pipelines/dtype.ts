/** The element types Gesso can feed a model input, checked against the session's metadata. */

import { GessoError } from '../../shared/errors';
import type { DType } from '../tensors';

export function asDType(type: string, what: string): DType {
  if (type === 'float32' || type === 'float16' || type === 'int32' || type === 'int64') return type;
  throw new GessoError(
    'unsupported-operator',
    `The model's ${what} uses ${type} data, which Gesso cannot feed yet; choose another pack variant.`,
  );
}
