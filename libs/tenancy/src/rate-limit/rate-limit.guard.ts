import type { RouteContract } from '@capstan/contracts';
import { DomainError } from '@capstan/domain';
import { AuthConfig, RedisConnections, ROUTE_CONTRACT } from '@capstan/platform';
import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { ClsService } from 'nestjs-cls';
import { CALLER } from '../auth/access.guard';
import type { Caller } from '../auth/caller';

export class RateLimitedError extends DomainError {
  readonly type = 'rate-limited';
  readonly kind = 'rate_limited';
  readonly title = 'Too many requests';

  constructor(
    limit: number,
    readonly retryAfterSeconds: number,
    what = 'requests',
  ) {
    super(`${what === 'requests' ? 'this credential may make' : 'at most'} ${limit} ${what} a minute; retry in ${retryAfterSeconds} s`, {
      retry_after: retryAfterSeconds,
    });
  }
}

/**
 * One fixed one-minute window per key in a single round trip: count this request, start the
 * window's expiry on its first, and say how long the window has left.
 */
const CONSUME = `
local used = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { used, ttl }`;

const WINDOW_MS = 60_000;

type LimiterConnection = Redis & { capstanRateLimit(key: string, windowMs: number): Promise<[number, number]> };

/**
 * Per-credential rate limit in Redis (a fixed one-minute window, shared by every API replica),
 * announced in RateLimit-* headers (IETF draft) on every authenticated answer. If Redis is down
 * the request is let through: losing the limiter must not take the API down with it.
 *
 * One Lua script (EVALSHA) per request rather than rate-limiter-flexible's MULTI of three
 * commands: the limiter runs on every authenticated request, and the transaction's client-side
 * work was a measurable share of a cached read's CPU (issue #3). Same keys, same semantics.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger = new Logger(RateLimitGuard.name);
  private readonly redis: LimiterConnection;
  private readonly keyPrefix: string;
  private readonly limit: number;

  constructor(
    private readonly reflector: Reflector,
    private readonly cls: ClsService,
    redis: RedisConnections,
    config: AuthConfig,
  ) {
    this.limit = config.rateLimitPerMinute;
    this.keyPrefix = `${redis.prefix}:rl:`;
    const connection = redis.open('rate-limit');
    connection.defineCommand('capstanRateLimit', { numberOfKeys: 1, lua: CONSUME });
    this.redis = connection as LimiterConnection;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.reflector.get<RouteContract | undefined>(ROUTE_CONTRACT, context.getHandler());
    const caller = this.cls.get<Caller | undefined>(CALLER);
    if (!route || route.access === 'public' || !caller) return true;
    const key = caller.kind === 'customer' ? caller.tokenId : (caller.tokenId ?? caller.staffUserId);
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    let used: number;
    let msLeft: number;
    try {
      [used, msLeft] = await this.redis.capstanRateLimit(this.keyPrefix + key, WINDOW_MS);
    } catch (error) {
      this.logger.warn({ err: error }, 'rate limiter unavailable; request allowed');
      return true;
    }
    const resetSeconds = Math.ceil(msLeft / 1000);
    void reply
      .header('ratelimit-limit', String(this.limit))
      .header('ratelimit-remaining', String(Math.max(0, this.limit - used)))
      .header('ratelimit-reset', String(resetSeconds));
    if (used > this.limit) {
      const retryAfter = Math.max(1, resetSeconds);
      void reply.header('retry-after', String(retryAfter));
      throw new RateLimitedError(this.limit, retryAfter);
    }
    return true;
  }
}
