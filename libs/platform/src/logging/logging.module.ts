import { type DynamicModule, Module } from '@nestjs/common';
import { hostname } from 'node:os';
import { LoggerModule } from 'nestjs-pino';
import type { LogConfig } from '../config/config';

/**
 * Paths pino blanks in every log line. Tokens, kubeconfigs and keys must never reach a log, even
 * when a request or error object is logged whole (DESIGN.md invariant 6).
 */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.token',
  '*.secret',
  '*.password',
  '*.kubeconfig',
  '*.privateKey',
  '*.clientKey',
  '*.secretHash',
];

/** Structured JSON logs; each HTTP request's lines carry its request id. */
@Module({})
export class LoggingModule {
  static forRoot(config: LogConfig, service: string): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.level,
            name: service,
            redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
            // Fastify assigns the id (from X-Request-Id or a new one); middie copies it to req.id.
            genReqId: (req) => (req as { id?: string }).id ?? 'unknown',
            // `service` in the base bindings, serialised once, rather than pino-http's customProps,
            // which cost every request a second child logger and a stringify when it ended.
            base: { pid: process.pid, hostname: hostname(), service },
            autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes((req.url ?? '').split('?')[0]!) },
            serializers: {
              req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
            },
            transport: config.pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
          },
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
