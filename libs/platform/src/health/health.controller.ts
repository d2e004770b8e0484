import { systemRoutes } from '@capstan/contracts';
import { ServiceUnavailableError } from '@capstan/domain';
import { Controller, Header, Req, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, PrismaHealthIndicator, type HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpConfig } from '../config/config';
import { PrismaService } from '../database/prisma.service';
import { outageLog } from '../errors/dependency-outage';
import { Endpoint } from '../http/endpoint.decorator';
import { Input } from '../http/input.decorator';
import { Metrics } from '../metrics/metrics';
import { MetricsAccess } from '../metrics/metrics-access';
import { RedisConnections } from '../redis/redis';
import type { Redis } from 'ioredis';

const CHECK_TIMEOUT_MS = 2_000;

/**
 * `/healthz` says the process runs; `/readyz` that it can do its work (Postgres and Redis answer).
 * A failed readiness check is a 503 problem naming each dependency, and it turns green by itself
 * as soon as the dependency is back: the pool and ioredis reconnect without a restart.
 */
@Controller()
export class HealthController {
  private readonly redis: Redis;
  private readonly metricsAccess: MetricsAccess;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly prismaIndicator: PrismaHealthIndicator,
    private readonly prisma: PrismaService,
    private readonly metrics: Metrics,
    redis: RedisConnections,
    http: HttpConfig,
  ) {
    this.redis = redis.open('health');
    this.metricsAccess = new MetricsAccess(http);
  }

  @Endpoint(systemRoutes.liveness)
  liveness(@Input() _input: unknown) {
    return { status: 'ok' as const };
  }

  @Endpoint(systemRoutes.readiness)
  async readiness(@Input() _input: unknown) {
    try {
      const result = await this.health.check([
        () => this.prismaIndicator.pingCheck('postgres', this.prisma, { timeout: CHECK_TIMEOUT_MS }),
        () => this.redisCheck(),
      ]);
      // Both answered: any outage a request logged is over (logged once, as it began).
      outageLog.succeeded('postgres');
      outageLog.succeeded('redis');
      return { status: 'ok' as const, checks: summarise(result.details) };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const checks = summarise((error.getResponse() as HealthCheckResult).details);
      const down = Object.entries(checks)
        .filter(([, c]) => c.status === 'down')
        .map(([name]) => name);
      throw new ServiceUnavailableError(`not ready: ${down.join(' and ')} unreachable`, { checks });
    }
  }

  @Endpoint(systemRoutes.metrics)
  @Header('cache-control', 'no-store')
  async scrape(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    this.metricsAccess.assertAllowed(request.ip, request.headers.authorization);
    const body = await this.metrics.registry.metrics();
    void reply.header('content-type', this.metrics.registry.contentType).send(body);
  }

  private async redisCheck() {
    const indicator = this.indicators.check('redis');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
        }),
      ]);
      return indicator.up();
    } catch {
      return indicator.down({ message: 'connection failed' });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Only up/down and a short message leave the process: never hostnames or driver errors. */
function summarise(details: HealthCheckResult['details']) {
  return Object.fromEntries(
    Object.entries(details).map(([name, detail]) => [
      name,
      detail.status === 'up' ? { status: 'up' as const } : { status: 'down' as const, message: String(detail['message'] ?? 'unreachable').slice(0, 120) },
    ]),
  );
}
