/**
 * Errors of the emulated Container API, answered as Google APIs answer them over REST: the HTTP
 * code with a `google.rpc.Status` in JSON, `{ "error": { "code", "message", "status" } }`, where
 * `status` is the canonical code's name. Clients (google-gax among them) map `status` back to the
 * gRPC code, so the pairs below are the ones Google documents for each canonical code.
 */
export type RpcCode =
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'OUT_OF_RANGE'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'ABORTED'
  | 'RESOURCE_EXHAUSTED'
  | 'CANCELLED'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'UNIMPLEMENTED';

const HTTP_STATUS: Record<RpcCode, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
};

/** Numeric google.rpc.Code values, for `Operation.error` (a Status message, whose `code` is the gRPC code). */
export const GRPC_CODE: Record<RpcCode, number> = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
};

export class GkeApiError extends Error {
  constructor(
    readonly status: RpcCode,
    message: string,
  ) {
    super(message);
    this.name = 'GkeApiError';
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.status];
  }

  toJSON(): { error: { code: number; message: string; status: RpcCode } } {
    return { error: { code: this.httpStatus, message: this.message, status: this.status } };
  }
}

export const invalidArgument = (message: string) => new GkeApiError('INVALID_ARGUMENT', message);
export const notFound = (message: string) => new GkeApiError('NOT_FOUND', message);
export const alreadyExists = (message: string) => new GkeApiError('ALREADY_EXISTS', message);
export const failedPrecondition = (message: string) => new GkeApiError('FAILED_PRECONDITION', message);
