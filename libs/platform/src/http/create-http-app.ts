import { allRoutes } from '@capstan/contracts';
import { Logger as NestLogger, type Type } from '@nestjs/common';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { CLS_ID, ClsService, type ClsStore } from 'nestjs-cls';
import type { CapstanConfig } from '../config/config';
import { outageLog } from '../errors/dependency-outage';
import { keepFastifyRefusal, ProblemDetailsFilter, sendProblem } from '../errors/problem-details.filter';
import { Metrics } from '../metrics/metrics';
import { HTTP_REQUEST, StructuredLogger } from '../logging/structured-logger';
import { buildOpenApiDocument } from '../openapi/openapi-document';
import { problemClientErrorHandler } from './client-error';
import { SOURCE_IP } from './request-context';
import { noneMatchHits } from './etag';
import { responseHeadersOf } from './response-headers';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Methods no Capstan route takes a body with. */
const BODILESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);
export const API_VERSION = '0.1.0';

/** A caller's X-Request-Id is kept when it is a plain token; anything else gets a fresh id. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  // A random UUID, not a ULID: request ids need no ordering, and ulid's per-character random
  // draws cost several percent of a fast request's CPU.
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : `req_${randomUUID().replace(/-/g, '')}`;
}

/**
 * Query strings decoded the WHATWG way: a byte sequence that is not UTF-8 becomes U+FFFD, which
 * validation refuses (docs/input-rules.md), where Fastify's default parser would pass the raw
 * `%ED%A0%80` through as if it were text. A repeated key gives an array, as before; keys land on
 * an object without a prototype, so `__proto__` is just a key (and an unknown one).
 */
export function parseQueryString(query: string): Record<string, string | string[]> {
  const parsed: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of new URLSearchParams(query)) {
    const previous = parsed[key];
    parsed[key] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return parsed;
}

export interface HttpAppOptions {
  /** Serve /openapi.json and /docs (the customer-facing API does; health-only apps do not). */
  docs?: boolean;
  /** Mounts what is not a Nest controller (the API's queue board), once the common hooks are in place. */
  mount?: (app: NestFastifyApplication) => Promise<void>;
}

/**
 * Builds a Nest application on Fastify with what every Capstan process serves the same way:
 * request ids, JSON logs (a line per answer), problem+json errors, ETag and Location from the body, metrics timings,
 * and optionally the API docs.
 */
export async function createHttpApp(
  rootModule: Type<unknown>,
  config: CapstanConfig,
  service: string,
  options: HttpAppOptions = {},
): Promise<NestFastifyApplication> {
  const frameworkLogger = new NestLogger('ProblemDetails');
  const adapter = new FastifyAdapter({
    bodyLimit: 1024 * 1024,
    requestIdHeader: false,
    genReqId: requestIdFor,
    trustProxy: config.environment === 'production',
    logger: false,
    // The router's own refusals (a path segment over 100 characters: 414; bad percent-encoding:
    // 400) would otherwise be plain JSON that echoes the decoded path back: problem+json instead.
    routerOptions: { querystringParser: parseQueryString },
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => sendProblem(request, reply, error, frameworkLogger, false),
    // What Node's parser refuses before routing (headers over 16 KiB: 431) is problem+json too.
    clientErrorHandler: problemClientErrorHandler,
  });
  // bodyParser off: Nest would add url-encoded forms; Fastify's own JSON parser is all we accept.
  const app = await NestFactory.create<NestFastifyApplication>(rootModule, adapter, { bufferLogs: true, bodyParser: false });
  const logger = app.get(StructuredLogger);
  app.useLogger(logger);
  app.useGlobalFilters(new ProblemDetailsFilter());
  // Only the signals that mean "stop": SIGUSR2 and friends are for profilers and debuggers.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);

  const fastify = app.getHttpAdapter().getInstance();
  // Security headers for an API (docs/http-security.md): nothing in a response may run as a page,
  // be framed or sniffed into another type; /docs sets its own policy for Swagger UI below.
  const security = await securityHeaders({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    // HSTS only where TLS is terminated for us: over plain HTTP (local, tests) it would only mislead.
    hsts: config.environment === 'production' ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(security);
    done();
  });
  // Fastify's refusals reach the filter wrapped by Nest; keep the originals for their wording.
  fastify.addHook('onError', (request, _reply, error, done) => {
    keepFastifyRefusal(request, error);
    done();
  });
  // Only JSON bodies are accepted: anything else is a 415 rather than a string to guess at.
  fastify.removeContentTypeParser('text/plain');
  // A DELETE (or GET) with `Content-Type: application/json` and no body, as clients that set the
  // header on every request send it, is no body rather than malformed JSON: none of those routes
  // takes one. Writes keep Fastify's refusal of an empty JSON body. Everything else goes to
  // Fastify's own parser, with its prototype-poisoning checks.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // parseAs 'string' hands a string; the type allows a Buffer for the other mode.
    if (body === '' && BODILESS_METHODS.has(request.method)) return done(null, undefined);
    return parseJson(request, String(body), done);
  });

  const metrics = app.get(Metrics);
  metrics.setServiceLabel(service);
  // Each request's context (RequestContext: request id, source IP; the caller once authenticated;
  // the request itself, for its log lines), opened right before the handler, after the body is
  // read, so nothing on the way loses it.
  const cls = app.get(ClsService);
  fastify.addHook('preHandler', (request, _reply, done) => {
    cls.runWith({ [CLS_ID]: request.id, [SOURCE_IP]: request.ip, [HTTP_REQUEST]: request } as ClsStore, () => done());
  });
  // Callback-style hooks: an async hook costs a promise per request for nothing here.
  // Headers that follow from the body (ETag, Location), for every route and every process; a
  // Fastify hook rather than a Nest interceptor, which would cost an rxjs layer per request.
  fastify.addHook('preSerialization', (request, reply, payload, done) => {
    const { etag, location } = responseHeadersOf(payload);
    if (etag) void reply.header('etag', etag);
    // A conditional read of an unchanged object: 304, and Fastify sends no body with it.
    const ifNoneMatch = request.headers['if-none-match'];
    if (etag && ifNoneMatch && request.method === 'GET' && reply.statusCode === 200 && noneMatchHits(ifNoneMatch, etag)) void reply.code(304);
    if (location) void reply.header('location', location);
    done(null, payload);
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    if (reply.statusCode === 304) {
      // RFC 9110 15.4.5: a 304 has no content; Fastify would still write the serialised body.
      void reply.removeHeader('content-type').removeHeader('content-length');
      done(null, null);
      return;
    }
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    // An authenticated answer below 500 has read its caller from Postgres: the outage is over.
    if (reply.statusCode < 500 && request.headers.authorization !== undefined && outageLog.isDown('postgres')) outageLog.succeeded('postgres');
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    logger.requestCompleted(request, reply);
    done();
  });

  if (options.docs) {
    const document = buildOpenApiDocument(
      allRoutes(),
      {
        title: 'Capstan API',
        version: API_VERSION,
        description: 'Managed Kubernetes control plane: clusters, node pools, operations, SLA reports.',
      },
      config.http.publicUrl,
    );
    fastify.get('/openapi.json', async () => document);
    await app.register(fastifySwagger as never, { mode: 'static', specification: { document } });
    await app.register(fastifySwaggerUi as never, {
      routePrefix: '/docs',
      staticCSP: true,
      // upgrade-insecure-requests makes the browser fetch Swagger UI's assets over https, which
      // breaks /docs served over plain HTTP on any address but localhost.
      transformStaticCSP: (header: string) => header.replace(/\s*upgrade-insecure-requests;?/g, ''),
    });
  }

  await options.mount?.(app);
  await app.init();
  return app;
}

/**
 * The headers @fastify/helmet sets with these options, worked out once at boot by running helmet
 * on one request of a throwaway Fastify instance; the app then sets that copy on every request.
 * The headers are helmet's own, whatever its version decides, but helmet's hook would rebuild
 * them on every request (an async hook, the policy's directives parsed and dashed again): a
 * measurable share of a cached read's CPU (docs/http-security.md).
 */
export async function securityHeaders(options: Record<string, unknown>): Promise<Record<string, string | number | string[]>> {
  const probe = Fastify({ logger: false });
  try {
    await probe.register(fastifyHelmet as never, options);
    let headers: Record<string, string | number | string[]> = {};
    probe.addHook('onSend', (_request, reply, payload, done) => {
      headers = Object.fromEntries(Object.entries(reply.getHeaders()).filter((entry): entry is [string, string | number | string[]] => entry[1] !== undefined));
      done(null, payload);
    });
    probe.get('/', (_request, reply) => reply.code(204).send());
    const answer = await probe.inject({ method: 'GET', url: '/' });
    if (answer.statusCode !== 204 || Object.keys(headers).length === 0) throw new Error(`helmet's headers could not be read (${answer.statusCode})`);
    return headers;
  } finally {
    await probe.close();
  }
}

/** Listens on the configured host and port and says where, once. */
export async function listen(app: NestFastifyApplication, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  return app.getUrl();
}
