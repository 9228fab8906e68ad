/**
 * Failures a user can meet, each with a literal code and a message that says
 * what to do. They cross the worker boundary as plain data (see toErrorData).
 */

export type GessoErrorCode =
  | 'pack-missing'
  | 'pack-corrupt'
  | 'out-of-memory'
  | 'backend-lost'
  | 'backend-unavailable'
  | 'unsupported-operator'
  | 'does-not-fit'
  | 'storage-full'
  | 'storage-refused'
  | 'network'
  | 'invalid-manifest'
  | 'invalid-image'
  | 'explain-unavailable'
  | 'control-unavailable'
  | 'aborted'
  | 'internal';

export class GessoError extends Error {
  readonly code: GessoErrorCode;
  constructor(code: GessoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GessoError';
    this.code = code;
  }
}

export interface ErrorData {
  name: string;
  code: GessoErrorCode;
  message: string;
}

export function isAbortError(error: unknown): boolean {
  return (
    (error instanceof GessoError && error.code === 'aborted') ||
    (typeof error === 'object' &&
      error !== null &&
      (error as { name?: unknown }).name === 'AbortError')
  );
}

export function toErrorData(error: unknown): ErrorData {
  if (error instanceof GessoError)
    return { name: error.name, code: error.code, message: error.message };
  if (isAbortError(error)) return { name: 'AbortError', code: 'aborted', message: 'Cancelled.' };
  const message = error instanceof Error ? error.message : String(error);
  return { name: 'GessoError', code: 'internal', message: `Something went wrong: ${message}` };
}

export function fromErrorData(data: ErrorData): GessoError {
  const error = new GessoError(data.code, data.message);
  if (data.code === 'aborted') error.name = 'AbortError';
  return error;
}
