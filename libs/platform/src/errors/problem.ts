import { DomainError, type ErrorKind } from '@capstan/domain';
import { HttpException } from '@nestjs/common';
import {
  BUSY_RETRY_AFTER_SECONDS,
  type Dependency,
  DEPENDENCY_NAMES,
  isPoolExhausted,
  OUTAGE_RETRY_AFTER_SECONDS,
  unreachableDependency,
} from './dependency-outage';

/** RFC 9457 problem details, plus Capstan's `request_id` so support can find the log lines. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  request_id?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://capstan.dev/problems/';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  unprocessable: 422,
  precondition_required: 428,
  rate_limited: 429,
  unavailable: 503,
};

/** Statuses the framework or Fastify raise before our code runs, with their stable types. */
const FRAMEWORK_PROBLEMS: Record<number, { type: string; title: string }> = {
  400: { type: 'malformed-request', title: 'The request is malformed' },
  401: { type: 'unauthenticated', title: 'Authentication required' },
  403: { type: 'forbidden', title: 'Forbidden' },
  404: { type: 'not-found', title: 'Not found' },
  405: { type: 'method-not-allowed', title: 'Method not allowed' },
  406: { type: 'not-acceptable', title: 'Not acceptable' },
  413: { type: 'payload-too-large', title: 'The request body is too large' },
  414: { type: 'uri-too-long', title: 'The request URI is too long' },
  415: { type: 'unsupported-media-type', title: 'Unsupported media type' },
  429: { type: 'rate-limited', title: 'Too many requests' },
  503: { type: 'service-unavailable', title: 'Service unavailable' },
};

export interface ProblemResponse {
  status: number;
  problem: ProblemDetails;
  /** Only unknown errors are worth a stack trace in the log; the client never sees it. */
  unexpected: boolean;
  /** Set when the error was a dependency outage (logged once per outage, not per request). */
  dependency?: Dependency;
  /** Seconds for the Retry-After header, when the client should come back. */
  retryAfter?: number;
}

/**
 * Turns anything thrown while serving a request into a problem body. Unknown errors become a
 * bare 500: their message may hold SQL, hostnames or secrets, so it goes to the log only.
 */
export function toProblem(error: unknown, instance?: string, requestId?: string): ProblemResponse {
  const base = { instance: instance === undefined ? undefined : safeInstance(instance), request_id: requestId };
  if (error instanceof DomainError) {
    const status = STATUS_BY_KIND[error.kind];
    return {
      status,
      unexpected: false,
      problem: { ...error.extensions, type: PROBLEM_TYPE_BASE + error.type, title: error.title, status, detail: error.detail, ...base },
    };
  }
  // Before the outage check: a full pool is load on this process, not Postgres away.
  if (isPoolExhausted(error)) {
    return {
      status: 503,
      unexpected: false,
      retryAfter: BUSY_RETRY_AFTER_SECONDS,
      problem: {
        type: PROBLEM_TYPE_BASE + 'server-busy',
        title: 'The server is busy',
        status: 503,
        detail: `every database connection of this server is in use; retry in ${BUSY_RETRY_AFTER_SECONDS} s`,
        retry_after: BUSY_RETRY_AFTER_SECONDS,
        ...base,
      },
    };
  }
  const dependency = unreachableDependency(error);
  if (dependency) {
    return {
      status: 503,
      unexpected: false,
      dependency,
      retryAfter: OUTAGE_RETRY_AFTER_SECONDS,
      problem: {
        type: PROBLEM_TYPE_BASE + 'dependency-unavailable',
        title: 'A dependency is unavailable',
        status: 503,
        detail: `${DEPENDENCY_NAMES[dependency]} is unreachable; retry in ${OUTAGE_RETRY_AFTER_SECONDS} s`,
        retry_after: OUTAGE_RETRY_AFTER_SECONDS,
        ...base,
      },
    };
  }
  const framework = frameworkStatus(error);
  if (framework) {
    const known = FRAMEWORK_PROBLEMS[framework.status] ?? { type: `http-${framework.status}`, title: 'Request failed' };
    return {
      status: framework.status,
      unexpected: false,
      problem: { type: PROBLEM_TYPE_BASE + known.type, title: known.title, status: framework.status, detail: framework.detail, ...base },
    };
  }
  return {
    status: 500,
    unexpected: true,
    problem: {
      type: PROBLEM_TYPE_BASE + 'internal-error',
      title: 'Internal error',
      status: 500,
      detail: 'The server failed to handle this request; quote the request_id when you contact support.',
      ...base,
    },
  };
}

const INSTANCE = /^\/[A-Za-z0-9\-._~%!$&'()*+,;=:@/]{0,199}$/;

/**
 * The request path as `instance`, only when it is short and plain (still percent-encoded as
 * sent): an answer must never reflect a hostile path back, however it is escaped.
 */
function safeInstance(path: string): string | undefined {
  return INSTANCE.test(path) ? path : undefined;
}

/** Nest HttpExceptions and Fastify's own client errors (bad JSON, media type, body size). */
function frameworkStatus(error: unknown): { status: number; detail: string } | undefined {
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status >= 500) return undefined;
    return { status, detail: describeHttpException(error) };
  }
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const status = Number((error as { statusCode: unknown }).statusCode);
    const code = String((error as { code?: unknown }).code ?? '');
    if (status >= 400 && status < 500) return { status, detail: describeFastifyError(code, error) };
  }
  return undefined;
}

function describeHttpException(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  return Array.isArray(message) ? message.join('; ') : String(message ?? error.message);
}

function describeFastifyError(code: string, error: object): string {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      // The one body type any route accepts (none takes merge-patch or forms); the type sent is not echoed.
      return 'the request body must be JSON, sent with Content-Type: application/json (the only content type accepted)';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'the body is not valid JSON';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'the body is empty but the content type is application/json';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'the request body exceeds the size limit';
    case 'FST_ERR_BAD_URL':
      return 'the URL is not valid: a path segment is not correctly percent-encoded UTF-8';
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return 'a path segment is longer than 100 characters';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'the Content-Length header does not match the body';
    default:
      // JSON.parse messages name the position of the syntax error and nothing of ours.
      return error instanceof SyntaxError ? `the body is not valid JSON: ${error.message}` : 'the request could not be read';
  }
}
