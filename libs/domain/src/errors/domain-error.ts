/**
 * Errors the product means to report, thrown by domain code and use cases.
 *
 * Each error carries a stable `type` (a slug that becomes the RFC 9457 problem `type` URI) and a
 * transport-neutral `kind`. The HTTP layer maps `kind` to a status code in one place
 * (libs/platform errors), so domain code never knows about HTTP and every route answers the same
 * error the same way.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'precondition_required'
  | 'unprocessable'
  | 'rate_limited'
  | 'unavailable';

/** One offending input, named by its JSON path (e.g. `node_pools.0.count`). */
export interface FieldViolation {
  field: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly type: string;
  abstract readonly kind: ErrorKind;
  abstract readonly title: string;

  /** Extra members for the problem body, e.g. the running operation's id. Never secrets. */
  readonly extensions: Record<string, unknown>;

  protected constructor(detail: string, extensions: Record<string, unknown> = {}) {
    super(detail);
    this.name = new.target.name;
    this.extensions = extensions;
  }

  get detail(): string {
    return this.message;
  }
}

export class ValidationError extends DomainError {
  readonly type = 'validation-failed';
  readonly kind = 'invalid';
  readonly title = 'The request is not valid';

  constructor(
    readonly violations: FieldViolation[],
    detail?: string,
  ) {
    super(detail ?? violations.map((v) => (v.field ? `${v.field}: ${v.message}` : v.message)).join('; '), { errors: violations });
  }
}

export class NotFoundError extends DomainError {
  readonly type = 'not-found';
  readonly kind = 'not_found';
  readonly title = 'Not found';

  /** `detail` when the object exists in some sense but not as the request needs it (an add-on that is not enabled). */
  constructor(resource: string, id: string, detail?: string) {
    super(detail ?? `${resource} ${id} does not exist`, { resource, id });
  }
}

export class ConflictError extends DomainError {
  readonly type: string;
  readonly kind = 'conflict';
  readonly title = 'Conflict';

  constructor(type: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(detail, extensions);
    this.type = type;
  }
}

export class UnprocessableError extends DomainError {
  readonly type: string;
  readonly kind = 'unprocessable';
  readonly title = 'The request cannot be carried out';

  constructor(type: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(detail, extensions);
    this.type = type;
  }
}

export class UnauthenticatedError extends DomainError {
  readonly type = 'unauthenticated';
  readonly kind = 'unauthenticated';
  readonly title = 'Authentication required';

  constructor(detail = 'a valid bearer token is required') {
    super(detail);
  }
}

export class ForbiddenError extends DomainError {
  readonly type: string;
  readonly kind = 'forbidden';
  readonly title = 'Forbidden';

  constructor(type: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(detail, extensions);
    this.type = type;
  }
}

export class PreconditionFailedError extends DomainError {
  readonly type = 'precondition-failed';
  readonly kind = 'precondition_failed';
  readonly title = 'Precondition failed';

  constructor(detail: string, extensions: Record<string, unknown> = {}) {
    super(detail, extensions);
  }
}

export class ServiceUnavailableError extends DomainError {
  readonly type = 'service-unavailable';
  readonly kind = 'unavailable';
  readonly title = 'Service unavailable';

  constructor(detail: string, extensions: Record<string, unknown> = {}) {
    super(detail, extensions);
  }
}
