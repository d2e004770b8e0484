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
 * Leases up to ARGV[3] requests of a key's window, never more than the limit (ARGV[2]) leaves, in
 * one round trip: the count is what every instance has leased so far; the window's expiry starts
 * with its first lease. Answers { leased so far, granted now, window's ms left }.
 */
const LEASE = `
local limit = tonumber(ARGV[2])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = math.min(tonumber(ARGV[3]), limit - used)
if grant > 0 then
  used = redis.call('INCRBY', KEYS[1], grant)
else
  grant = 0
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  if used > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
  ttl = tonumber(ARGV[1])
end
return { used, grant, ttl }`;

const WINDOW_MS = 60_000;

export type LeaseConnection = Redis & { capstanRateLimitLease(key: string, windowMs: number, limit: number, block: number): Promise<[number, number, number]> };

/** What this instance holds of one credential's current window. */
interface Lease {
  /** When the window ends (this clock), never later than the key's expiry in Redis. */
  endsAt: number;
  /** Leased in Redis by every instance, as of this instance's last lease. */
  leasedInRedis: number;
  /** Leased by this instance and not yet used. */
  unused: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends (at least 1 when refused). */
  resetSeconds: number;
}

/**
 * A fixed one-minute window per key in Redis, shared by every instance, served in blocks: an
 * instance LEASES a block of a key's allowance (one Lua round trip) and answers the next requests
 * from it until the block is used up or the window ends. Blocks scale with the limit (a
 * twentieth of it, 1 to 50) and a lease never takes more than the window has left, so the
 * instances together never admit more than the limit in a window. With one instance the count
 * and Remaining are exact; with several, Remaining is `limit - leased in Redis (as last seen) +
 * this instance's unused lease`, so it may over-report by what the others hold unused (or have
 * leased since), and a client may be refused by one instance while another still holds a few
 * unused requests of the window (docs/http-security.md, "Rate limits").
 *
 * Local state is one small entry per key that was used in the last window or two: entries whose
 * window has ended are swept once a window.
 */
export class LeasedRateLimit {
  private readonly leases = new Map<string, Lease>();
  /** One lease in flight per key: requests arriving meanwhile wait for it rather than lease more. */
  private readonly leasing = new Map<string, Promise<void>>();
  private readonly block: number;
  private nextSweepAt: number;

  constructor(
    private readonly redis: LeaseConnection,
    private readonly keyPrefix: string,
    readonly limit: number,
    private readonly windowMs = WINDOW_MS,
  ) {
    this.block = Math.min(50, Math.max(1, Math.floor(limit / 20)));
    this.nextSweepAt = Date.now() + windowMs;
  }

  /** Teaches a connection the lease script (as an EVALSHA command, loaded once). */
  static define(connection: Redis): LeaseConnection {
    connection.defineCommand('capstanRateLimitLease', { numberOfKeys: 1, lua: LEASE });
    return connection as LeaseConnection;
  }

  /**
   * Counts one request of `key`: the decision itself when this instance's lease answers it (most
   * requests: no promise, no round trip), else a promise of it, which rejects only when Redis
   * cannot be reached.
   */
  take(key: string): RateLimitDecision | Promise<RateLimitDecision> {
    return this.fromLease(key) ?? this.takeAfterLeasing(key);
  }

  private fromLease(key: string): RateLimitDecision | undefined {
    const now = Date.now();
    if (now >= this.nextSweepAt) this.sweep(now);
    const lease = this.leases.get(key);
    if (!lease || lease.endsAt <= now) return undefined;
    if (lease.unused > 0) {
      lease.unused--;
      return this.decision(lease, now, true);
    }
    // Every request of the window has been leased: nobody can get more until it ends.
    if (lease.leasedInRedis >= this.limit) return this.decision(lease, now, false);
    return undefined;
  }

  private async takeAfterLeasing(key: string): Promise<RateLimitDecision> {
    for (;;) {
      const inFlight = this.leasing.get(key);
      if (inFlight) {
        await inFlight;
      } else {
        const leased = this.lease(key).finally(() => this.leasing.delete(key));
        this.leasing.set(key, leased);
        await leased;
      }
      const decision = this.fromLease(key);
      if (decision) return decision;
    }
  }

  private async lease(key: string): Promise<void> {
    // The window's end measured from before the call: a lease must not outlive the key in Redis,
    // or this instance would serve the old window's lease while the new window is counted afresh.
    const sentAt = Date.now();
    const [leasedInRedis, granted, msLeft] = await this.redis.capstanRateLimitLease(this.keyPrefix + key, this.windowMs, this.limit, this.block);
    // Replaces what was there: a key is leased again only once its lease is used up or its window
    // has ended (one lease in flight at a time, take), so nothing usable is dropped.
    this.leases.set(key, { endsAt: sentAt + msLeft, leasedInRedis, unused: granted });
  }

  private decision(lease: Lease, now: number, allowed: boolean): RateLimitDecision {
    const resetSeconds = Math.ceil((lease.endsAt - now) / 1000);
    return {
      allowed,
      limit: this.limit,
      remaining: Math.max(0, this.limit - lease.leasedInRedis + lease.unused),
      resetSeconds: allowed ? resetSeconds : Math.max(1, resetSeconds),
    };
  }

  private sweep(now: number): void {
    for (const [key, lease] of this.leases) if (lease.endsAt <= now) this.leases.delete(key);
    this.nextSweepAt = now + this.windowMs;
  }

  /** Keys this instance holds state for (tests: the state stays bounded). */
  get size(): number {
    return this.leases.size;
  }
}

/**
 * Per-credential rate limit (RATE_LIMIT_PER_MINUTE), announced in RateLimit-* headers (IETF
 * draft) on every authenticated answer, 429 with Retry-After past it. If Redis is down the
 * request is let through: losing the limiter must not take the API down with it.
 *
 * Served from leased blocks (LeasedRateLimit) rather than a Redis round trip per request: the
 * EVALSHA of every request was about a seventh of a cached read's CPU (issue #8).
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger = new Logger(RateLimitGuard.name);
  private readonly limiter: LeasedRateLimit;

  constructor(
    private readonly reflector: Reflector,
    private readonly cls: ClsService,
    redis: RedisConnections,
    config: AuthConfig,
  ) {
    this.limiter = new LeasedRateLimit(LeasedRateLimit.define(redis.open('rate-limit')), `${redis.prefix}:rl:`, config.rateLimitPerMinute);
  }

  // Not async: a request its instance's lease answers costs no promise (Nest awaits only promises).
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const route = this.reflector.get<RouteContract | undefined>(ROUTE_CONTRACT, context.getHandler());
    const caller = this.cls.get<Caller | undefined>(CALLER);
    if (!route || route.access === 'public' || !caller) return true;
    const key = caller.kind === 'customer' ? caller.tokenId : (caller.tokenId ?? caller.staffUserId);
    const taken = this.limiter.take(key);
    if (!(taken instanceof Promise)) return this.answer(context, taken);
    return taken.then(
      (decision) => this.answer(context, decision),
      (error: unknown) => {
        this.logger.warn({ err: error }, 'rate limiter unavailable; request allowed');
        return true;
      },
    );
  }

  /** The RateLimit-* headers on the answer; a RateLimitedError (with Retry-After) past the limit. */
  private answer(context: ExecutionContext, decision: RateLimitDecision): boolean {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    void reply
      .header('ratelimit-limit', String(decision.limit))
      .header('ratelimit-remaining', String(decision.remaining))
      .header('ratelimit-reset', String(decision.resetSeconds));
    if (!decision.allowed) {
      void reply.header('retry-after', String(decision.resetSeconds));
      throw new RateLimitedError(decision.limit, decision.resetSeconds);
    }
    return true;
  }
}
