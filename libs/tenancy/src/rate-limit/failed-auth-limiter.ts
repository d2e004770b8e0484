import { AuthConfig, RedisConnections } from '@capstan/platform';
import { Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimitedError } from './rate-limit.guard';

/** Count one failure in a fixed window that starts with the first; answer the count and the window's time left. */
const COUNT_FAILURE = `
local failed = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { failed, ttl }`;

const WINDOW_MS = 60_000;

type FailureConnection = Redis & { capstanCountAuthFailure(key: string, windowMs: number): Promise<[number, number]> };

/**
 * Failed authentications per source address (AUTH_FAILURES_PER_MINUTE): past the limit, a failed
 * attempt answers 429 with Retry-After instead of 401, so guessing or replaying revoked tokens
 * from one address is slowed to a trickle. Only failures are counted, in the same round trip
 * that decides, so a request with a valid credential pays nothing, and one client behind a
 * shared NAT with a stale token does not lock out its neighbours' valid ones.
 */
@Injectable()
export class FailedAuthLimiter {
  private readonly logger = new Logger(FailedAuthLimiter.name);
  private readonly redis: FailureConnection;
  private readonly keyPrefix: string;
  private readonly limit: number;

  constructor(redis: RedisConnections, config: AuthConfig) {
    this.limit = config.authFailuresPerMinute;
    this.keyPrefix = `${redis.prefix}:authfail:`;
    const connection = redis.open('auth-failures');
    connection.defineCommand('capstanCountAuthFailure', { numberOfKeys: 1, lua: COUNT_FAILURE });
    this.redis = connection as FailureConnection;
  }

  /** Records a failed authentication from `address`; a RateLimitedError (with retry_after) when it is one too many. */
  async failureFrom(address: string): Promise<RateLimitedError | undefined> {
    let failed: number;
    let msLeft: number;
    try {
      [failed, msLeft] = await this.redis.capstanCountAuthFailure(this.keyPrefix + address, WINDOW_MS);
    } catch (error) {
      // As for the per-credential limit: losing the limiter must not take authentication down.
      this.logger.warn({ err: error }, 'failed-authentication limiter unavailable');
      return undefined;
    }
    if (failed <= this.limit) return undefined;
    return new RateLimitedError(this.limit, Math.max(1, Math.ceil(msLeft / 1000)), 'failed authentications from this address');
  }
}
