import type { RouteContract } from '@capstan/contracts';
import { AuthConfig, RedisConfig, RedisConnections, ROUTE_CONTRACT } from '@capstan/platform';
import { TEST_REDIS_URL } from '@capstan/testing';
import { type ExecutionContext, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import IORedis from 'ioredis';
import { ClsService } from 'nestjs-cls';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { CALLER } from '../auth/access.guard';
import type { CustomerCaller } from '../auth/caller';
import { LeasedRateLimit, RateLimitedError, RateLimitGuard } from './rate-limit.guard';

/** A customer route, as @Endpoint would declare it. */
function handler(): () => void {
  const fn = () => undefined;
  Reflect.defineMetadata(ROUTE_CONTRACT, { access: 'customer:read' } as Partial<RouteContract>, fn);
  return fn;
}

const route = handler();

interface Answer {
  allowed: boolean;
  headers: Record<string, string>;
  error?: unknown;
}

describe('RateLimitGuard (leased blocks, real Redis)', () => {
  const als = new AsyncLocalStorage<Record<string, unknown>>();
  const cls = new ClsService(als);
  const opened: RedisConnections[] = [];
  let prefix: string;
  let admin: IORedis;

  beforeAll(() => {
    admin = new IORedis(TEST_REDIS_URL);
  });

  beforeEach(() => {
    prefix = `capstan-rl-spec-${randomBytes(4).toString('hex')}`;
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((r) => r.onApplicationShutdown()));
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length > 0) await admin.del(...keys);
  });

  afterAll(async () => {
    await admin.quit();
  });

  /** One API instance: its own Redis connection, the same Redis and prefix as the others. */
  function instance(limit: number): RateLimitGuard {
    const redis = new RedisConnections(new RedisConfig(TEST_REDIS_URL, prefix));
    opened.push(redis);
    return new RateLimitGuard(new Reflector(), cls, redis, new AuthConfig(undefined, limit));
  }

  const caller = (tokenId: string): CustomerCaller => ({
    kind: 'customer',
    organizationId: 'org_1',
    tokenId,
    scopes: ['read'],
    organizationStatus: 'active',
    suspendedReason: null,
  });

  async function call(guard: RateLimitGuard, tokenId = 'tok_a'): Promise<Answer> {
    const headers: Record<string, string> = {};
    const reply = {
      header(name: string, value: string) {
        headers[name] = value;
        return reply;
      },
    };
    const context = { getHandler: () => route, switchToHttp: () => ({ getResponse: () => reply }) } as unknown as ExecutionContext;
    return als.run({ [CALLER]: caller(tokenId) }, async () => {
      try {
        return { allowed: await guard.canActivate(context), headers };
      } catch (error) {
        return { allowed: false, headers, error };
      }
    });
  }

  it('admits exactly the limit on one instance, with an exact Remaining, then answers 429 with Retry-After', async () => {
    // 100 a minute: blocks of 5, so 20 leases serve the minute.
    const guard = instance(100);
    const answers: Answer[] = [];
    for (let i = 0; i < 103; i++) answers.push(await call(guard));
    expect(answers.filter((a) => a.allowed)).toHaveLength(100);
    expect(answers.slice(0, 100).every((a) => a.allowed)).toBe(true);
    expect(answers.slice(0, 100).map((a) => Number(a.headers['ratelimit-remaining']))).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
    for (const refused of answers.slice(100)) {
      expect(refused.error).toBeInstanceOf(RateLimitedError);
      expect(refused.headers['ratelimit-remaining']).toBe('0');
      expect(refused.headers['ratelimit-limit']).toBe('100');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    // Redis saw the whole minute leased, never more.
    expect(Number(await admin.get(`${prefix}:rl:tok_a`))).toBe(100);
  });

  it('admits exactly the limit when requests arrive at once (one lease in flight per credential)', async () => {
    const guard = instance(100);
    const answers = await Promise.all(Array.from({ length: 130 }, () => call(guard)));
    expect(answers.filter((a) => a.allowed)).toHaveLength(100);
    expect(answers.filter((a) => a.error instanceof RateLimitedError)).toHaveLength(30);
    const remaining = answers.filter((a) => a.allowed).map((a) => Number(a.headers['ratelimit-remaining']));
    expect(new Set(remaining).size).toBe(100);
    expect(Math.min(...remaining)).toBe(0);
  });

  it('never admits more than the limit across two instances sharing Redis, interleaved or concurrent', async () => {
    const [a, b] = [instance(60), instance(60)];
    let admitted = 0;
    // Interleaved one by one, then in bursts on both at once, until both refuse.
    for (let i = 0; i < 25; i++) for (const guard of [a, b]) if ((await call(guard)).allowed) admitted++;
    expect(admitted).toBe(50);
    const bursts = await Promise.all([...Array.from({ length: 20 }, () => call(a)), ...Array.from({ length: 20 }, () => call(b))]);
    admitted += bursts.filter((x) => x.allowed).length;
    expect(admitted).toBe(60);
    expect((await call(a)).allowed).toBe(false);
    expect((await call(b)).allowed).toBe(false);
    expect(Number(await admin.get(`${prefix}:rl:tok_a`))).toBe(60);
  });

  it('counts each credential on its own', async () => {
    const guard = instance(3);
    const first = [await call(guard, 'tok_a'), await call(guard, 'tok_a'), await call(guard, 'tok_a'), await call(guard, 'tok_a')];
    expect(first.map((a) => a.allowed)).toEqual([true, true, true, false]);
    expect(first.map((a) => a.headers['ratelimit-remaining'])).toEqual(['2', '1', '0', '0']);
    expect((await call(guard, 'tok_b')).headers['ratelimit-remaining']).toBe('2');
  });

  it('lets requests through without headers when Redis cannot be reached', async () => {
    const redis = new RedisConnections(new RedisConfig('redis://127.0.0.1:1', prefix));
    opened.push(redis);
    const guard = new RateLimitGuard(new Reflector(), cls, redis, new AuthConfig(undefined, 1));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const answers = [await call(guard), await call(guard)];
      expect(answers.map((a) => a.allowed)).toEqual([true, true]);
      expect(answers[0]!.headers).toEqual({});
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(Error) }), 'rate limiter unavailable; request allowed');
    } finally {
      warn.mockRestore();
    }
  });
});

describe('LeasedRateLimit windows (real Redis)', () => {
  let redis: RedisConnections;
  let prefix: string;

  beforeEach(() => {
    prefix = `capstan-rl-spec-${randomBytes(4).toString('hex')}`;
    redis = new RedisConnections(new RedisConfig(TEST_REDIS_URL, prefix));
  });

  afterEach(async () => {
    const admin = new IORedis(TEST_REDIS_URL);
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
    await redis.onApplicationShutdown();
  });

  function limiter(limit: number, windowMs: number): LeasedRateLimit {
    return new LeasedRateLimit(LeasedRateLimit.define(redis.open('rate-limit')), `${prefix}:rl:`, limit, windowMs);
  }

  it('admits again once the window ends, and forgets credentials whose window has ended', async () => {
    // A short window (the real one is a minute); generous enough for a loaded machine.
    const rl = limiter(40, 1_500);
    const take = async (n: number, key = 'k') => {
      const decisions = [];
      for (let i = 0; i < n; i++) decisions.push(await rl.take(key));
      return decisions;
    };
    const first = await take(42);
    expect(first.filter((d) => d.allowed)).toHaveLength(40);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    const second = await take(41);
    expect(second.filter((d) => d.allowed)).toHaveLength(40);
    expect(second[0]!.remaining).toBe(39);
    // Past two windows, a new request sweeps what the ended windows left behind.
    await take(1, 'other');
    expect(rl.size).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 3_200));
    await take(1, 'third');
    expect(rl.size).toBe(1);
  });
});
