import { Logger } from '@nestjs/common';

/**
 * What a request can find unreachable: our own stores, and the cloud the drivers call (the
 * simulated cloud, the GKE API, the RKE2 management cluster).
 */
export type Dependency = 'postgres' | 'redis' | 'simulated-cloud' | 'gke' | 'management-cluster';

/** How an answer names each dependency (never by host: a client is not told our topology). */
export const DEPENDENCY_NAMES: Record<Dependency, string> = {
  postgres: 'the database',
  redis: 'the queue store',
  'simulated-cloud': 'the simulated cloud',
  gke: 'the GKE API',
  'management-cluster': 'the management cluster',
};

/**
 * What the client of a dependency called over HTTP attaches (as `unreachable`) to the error of a
 * call that got no answer: which dependency, and the host of its configured URL, for the log.
 * Without it a refused socket looks the same whoever refused it, and every one was taken for
 * Postgres (docs/dependency-outages.md).
 */
export interface UnreachableCall {
  dependency: Dependency;
  host?: string;
}

/** The host of a configured URL, for the outage log (no credentials, no path). */
export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

/** The mark a dependency's client left on the error or on one it wraps, if any. */
export function unreachableCall(error: unknown): UnreachableCall | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const mark = (current as { unreachable?: Partial<UnreachableCall> }).unreachable;
    if (mark && typeof mark === 'object' && typeof mark.dependency === 'string' && mark.dependency in DEPENDENCY_NAMES) {
      return { dependency: mark.dependency, ...(typeof mark.host === 'string' ? { host: mark.host } : {}) };
    }
    current = next(current);
  }
  return undefined;
}

function next(error: object): unknown {
  return (error as { cause?: unknown }).cause ?? (error as { meta?: { driverAdapterError?: unknown } }).meta?.driverAdapterError;
}

/** Seconds a client is told to wait before retrying during an outage: about a reconnect attempt. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

// Socket-level failures, and the SQLSTATE classes of a server that is going or gone
// (08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now).
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const POSTGRES_STATES = /^(08\d{3}|57P0[123])$/;
// Prisma's own codes for "cannot reach" and "closed the connection".
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017']);
// pg-pool's "Connection terminated due to connection timeout" is a new connection that could not
// be opened in time: the server is away or not accepting.
const PG_MESSAGES = /Connection terminated|Client has encountered a connection error|connect ECONNREFUSED|Can't reach database server/i;
// pg-pool's checkout that waited its whole connectionTimeoutMillis in the pool's queue because
// every connection was in use, and Prisma's code for the same: the server answers, this process
// is saturated.
const POOL_EXHAUSTED_MESSAGE = /timeout exceeded when trying to connect/i;
const POOL_EXHAUSTED_CODE = 'P2024';

/** Seconds a client is told to wait when this process's pool was full: about a request's length. */
export const BUSY_RETRY_AFTER_SECONDS = 1;
const REDIS_MESSAGES = /Connection is closed|Reached the max retries per request limit|Stream isn't writeable|enableOfflineQueue/i;

/**
 * Which dependency an error says is unreachable, if any: such an error is an outage, answered
 * 503 with Retry-After, not a bug answered 500 with a stack trace (docs/dependency-outages.md).
 * Walks the error's causes, since Prisma and Kysely wrap the driver's error.
 */
export function unreachableDependency(error: unknown): Dependency | undefined {
  // First the mark of the client that made the call: its error carries the socket's message
  // (`connect ECONNREFUSED ...`), which the patterns below would take for Postgres.
  const marked = unreachableCall(error);
  if (marked) return marked.dependency;
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { name, code, message } = current as { name?: unknown; code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : '';
    if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.test(text)) return 'redis';
    if (typeof code === 'string' && (PRISMA_CODES.has(code) || POSTGRES_STATES.test(code))) return 'postgres';
    if (name === 'PrismaClientInitializationError' || PG_MESSAGES.test(text)) return 'postgres';
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return /redis|6379/i.test(text) ? 'redis' : 'postgres';
    current = next(current);
  }
  return undefined;
}

/**
 * Whether an error is a pool checkout that timed out because every connection of this process was
 * in use (load), which is not an outage: Postgres answers, and another replica, or this one a
 * moment later, can serve the request. It is answered 503 `server-busy` with a short Retry-After,
 * and neither logs an outage nor marks Postgres down (docs/dependency-outages.md, Overload).
 */
export function isPoolExhausted(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (code === POOL_EXHAUSTED_CODE || (typeof message === 'string' && POOL_EXHAUSTED_MESSAGE.test(message))) return true;
    current = next(current);
  }
  return false;
}

/**
 * One log line per outage transition, not one per request: the first request that meets a
 * dependency down logs that it is down, the first that succeeds with it afterwards logs that it
 * is back. 164 failed requests in a 20 s outage are one "down" and one "back".
 */
export class OutageLog {
  private readonly logger = new Logger('DependencyOutage');
  private readonly down = new Map<Dependency, number>();

  failed(dependency: Dependency, error: unknown): void {
    if (this.down.has(dependency)) return;
    this.down.set(dependency, Date.now());
    const reason = error instanceof Error ? `${error.name}: ${String((error as { code?: unknown }).code ?? '')}`.trim() : 'unknown';
    // The configured host of a dependency called over HTTP: which simulated cloud, GKE endpoint or
    // management cluster it is (the log is the operator's; the answer never names hosts).
    const host = unreachableCall(error)?.host;
    this.logger.warn({ dependency, reason, ...(host ? { host } : {}) }, `${dependency} unreachable: answering 503 with Retry-After until it is back`);
  }

  /**
   * Called when a request that needed Postgres (every authenticated one) succeeded, or a call to a
   * dependency called over HTTP got an answer.
   */
  succeeded(dependency: Dependency): void {
    const since = this.down.get(dependency);
    if (since === undefined) return;
    this.down.delete(dependency);
    this.logger.log({ dependency, outage_ms: Date.now() - since }, `${dependency} reachable again`);
  }

  isDown(dependency: Dependency): boolean {
    return this.down.has(dependency);
  }
}

/** The process's one outage log (every request of a process shares what it has seen). */
export const outageLog = new OutageLog();
