import { DomainError, ValidationError } from '../errors/domain-error';

/** The DomainError `fn` throws (test helper); fails the test if it throws nothing or something else. */
export function caught(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError, but nothing was thrown');
}

/** The ValidationError `fn` throws (test helper). */
export function validationError(fn: () => unknown): ValidationError {
  const error = caught(fn);
  if (!(error instanceof ValidationError)) throw new Error(`expected a ValidationError, got ${error.name}`);
  return error;
}
