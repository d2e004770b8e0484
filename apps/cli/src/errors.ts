import type { Problem } from '@capstan/sdk';

/**
 * Exit codes scripts can rely on (docs/cli.md, Exit codes). Keep this table and the doc in step.
 */
export const EXIT = {
  ok: 0,
  /** The API refused the request (any 4xx/5xx not listed below). */
  apiError: 1,
  /** Bad command line: unknown command or option, a malformed value. */
  usage: 2,
  /** No credential, or the API said 401/403. */
  auth: 3,
  /** The API said 404 (or, for another tenant's object, the same). */
  notFound: 4,
  /** A waited-for operation ended failed, cancelled or needing attention. */
  operationFailed: 5,
  /** `--wait` ran past `--timeout`. */
  timeout: 6,
  /** The API could not be reached at all. */
  unreachable: 7,
  /** Ctrl-C while `--wait` followed an operation (128 + SIGINT, as shells report it); the operation goes on. */
  interrupted: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The problem's title and detail, the field errors it lists and its request id, for a person to read. */
export function problemError(status: number, problem: Partial<Problem> | undefined): CliError {
  const title = problem?.title ?? `HTTP ${status}`;
  const errors = problem?.errors ?? [];
  // A validation problem's detail is its field errors joined: printed once, one per line.
  const repeats = errors.length > 0 && problem?.detail === errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  const lines = [`${title} (${status})${problem?.detail && !repeats ? `: ${problem.detail}` : ''}`];
  for (const e of errors) lines.push(`  ${e.field}: ${e.message}`);
  if (problem?.request_id) lines.push(`  request id: ${problem.request_id}`);
  const exitCode = status === 401 || status === 403 ? EXIT.auth : status === 404 ? EXIT.notFound : EXIT.apiError;
  return new CliError(lines.join('\n'), exitCode);
}
