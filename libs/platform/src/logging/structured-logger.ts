import type { LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClsService } from 'nestjs-cls';
import { hostname } from 'node:os';
import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import type { LogConfig } from '../config/config';

const SECRET_KEYS = ['token', 'secret', 'password', 'kubeconfig', 'privateKey', 'clientKey', 'secretHash'];

/**
 * Paths pino blanks in every log line. Tokens, kubeconfigs and keys must never reach a log, even
 * when a request or error object is logged whole (docs/observability.md, "Secrets in logs"): each secret key at the
 * top of a line and one level down (`*.token` alone matches only the latter).
 */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
];

/** The CLS key of the HTTP request being served (createHttpApp sets it with the request's context). */
export const HTTP_REQUEST = Symbol('capstan:http-request');
/** The request's own child logger, made on its first line. */
const REQUEST_LOGGER = Symbol('capstan:request-logger');

interface RequestStore {
  [HTTP_REQUEST]?: FastifyRequest;
  [REQUEST_LOGGER]?: Logger;
}

/** Paths whose answers are not logged: probes and scrapes would drown every other line. */
const UNLOGGED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** The process's pino logger: JSON lines with the service in the base bindings (serialised once), redacted. */
export function createRootLogger(config: LogConfig, service: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.level,
    name: service,
    redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
    base: { pid: process.pid, hostname: hostname(), service },
    serializers: {
      // A request is its id, method and URL: never its headers, which carry credentials.
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: pino.stdSerializers.res,
      err: pino.stdSerializers.err,
    },
    transport: config.pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Nest's logger for every Capstan process: Nest's `Logger` calls become pino lines (the context
 * as `context`, an Error as `err`), and a line written while an HTTP request is served carries
 * the request (`req`: id, method, URL) through a child logger made on the request's first line.
 *
 * The request is found in the request's CLS context (nestjs-cls), which createHttpApp opens for
 * every request anyway: no logger middleware and no AsyncLocalStorage of the logger's own, each
 * of which cost every request (an ALS propagates its store to every promise a request creates),
 * and no child logger for a request that logs nothing.
 */
export class StructuredLogger implements LoggerService {
  constructor(
    readonly root: Logger,
    private readonly cls: ClsService,
  ) {}

  /** The logger of the request being served, else the process's. */
  get current(): Logger {
    const store = this.cls.get() as RequestStore | undefined;
    const request = store?.[HTTP_REQUEST];
    if (!store || !request) return this.root;
    return (store[REQUEST_LOGGER] ??= this.root.child({ req: request }));
  }

  /**
   * The line that ends a request (the access log): its status, response headers and time, at
   * info; an answer of 500 or more as `request errored` with an `err`. Probes are not logged.
   */
  requestCompleted(request: FastifyRequest, reply: FastifyReply): void {
    if (!this.root.isLevelEnabled('info')) return;
    const url = request.url;
    const query = url.indexOf('?');
    if (UNLOGGED_PATHS.has(query === -1 ? url : url.slice(0, query))) return;
    const responseTime = Math.round(reply.elapsedTime);
    if (reply.statusCode >= 500) {
      const err = new Error(`failed with status code ${reply.statusCode}`);
      this.root.info({ req: request, res: reply.raw, err, responseTime }, 'request errored');
    } else {
      this.root.info({ req: request, res: reply.raw, responseTime }, 'request completed');
    }
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('trace', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('info', message, optionalParams);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams);
  }

  /**
   * Nest passes the logger's context as the last parameter. An object message is merged into the
   * line (an Error becomes `err`); Nest's own exception handlers pass `(message, stack)`, which
   * becomes an `err` with that stack.
   */
  private write(level: Level, message: unknown, optionalParams: unknown[]): void {
    const logger = this.current;
    if (!logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    let params = optionalParams;
    if (params.length > 0) {
      fields.context = params[params.length - 1];
      params = params.slice(0, -1);
    }
    if (message instanceof Error) {
      fields.err = message;
      logger[level](fields, ...(params as []));
    } else if (typeof message === 'object' && message !== null) {
      logger[level](Object.assign(fields, message), ...(params as []));
    } else if (level === 'error' && typeof message === 'string' && params.length === 1 && typeof params[0] === 'string' && /\n\s*at /.test(params[0])) {
      const err = new Error(message);
      err.stack = params[0];
      fields.err = err;
      logger[level](fields);
    } else {
      logger[level](fields, String(message), ...(params as []));
    }
  }
}
