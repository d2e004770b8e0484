import type { RouteContract } from '@capstan/contracts';
import { DomainError } from '@capstan/domain';
import { AuthConfig, RedisConnections, ROUTE_CONTRACT } from '@capstan/platform';
import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { ClsService } from 'nestjs-cls';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { CALLER } from '../auth/access.guard';
import type { Caller } from '../auth/caller';

class RateLimitedError extends DomainError {
  readonly type = 'rate-limited';
  readonly kind = 'rate_limited';
  readonly title = 'Too many requests';

  constructor(limit: number, retryAfterSeconds: number) {
    super(`this credential may make ${limit} requests a minute; retry in ${retryAfterSeconds} s`, { retry_after: retryAfterSeconds });
  }
}

/**
 * Per-credential rate limit in Redis (a fixed one-minute window, shared by every API replica),
 * announced in RateLimit-* headers (IETF draft) on every authenticated answer. If Redis is down
 * the request is let through: losing the limiter must not take the API down with it.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger = new Logger(RateLimitGuard.name);
  private readonly limiter: RateLimiterRedis;
  private readonly limit: number;

  constructor(
    private readonly reflector: Reflector,
    private readonly cls: ClsService,
    redis: RedisConnections,
    config: AuthConfig,
  ) {
    this.limit = config.rateLimitPerMinute;
    this.limiter = new RateLimiterRedis({
      storeClient: redis.open('rate-limit'),
      keyPrefix: `${redis.prefix}:rl`,
      points: this.limit,
      duration: 60,
      useRedisPackage: false,
    });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.reflector.get<RouteContract | undefined>(ROUTE_CONTRACT, context.getHandler());
    const caller = this.cls.get<Caller | undefined>(CALLER);
    if (!route || route.access === 'public' || !caller) return true;
    const key = caller.kind === 'customer' ? caller.tokenId : (caller.tokenId ?? caller.staffUserId);
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    try {
      const state = await this.limiter.consume(key);
      this.announce(reply, state);
      return true;
    } catch (outcome) {
      if (outcome instanceof RateLimiterRes) {
        this.announce(reply, outcome);
        const retryAfter = Math.max(1, Math.ceil(outcome.msBeforeNext / 1000));
        void reply.header('retry-after', String(retryAfter));
        throw new RateLimitedError(this.limit, retryAfter);
      }
      this.logger.warn({ err: outcome }, 'rate limiter unavailable; request allowed');
      return true;
    }
  }

  private announce(reply: FastifyReply, state: RateLimiterRes): void {
    void reply
      .header('ratelimit-limit', String(this.limit))
      .header('ratelimit-remaining', String(Math.max(0, state.remainingPoints)))
      .header('ratelimit-reset', String(Math.ceil(state.msBeforeNext / 1000)));
  }
}
