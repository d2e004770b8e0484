import { EmbeddedRedisServer, PrismaService } from '@capstan/platform';
import { clusterRequest, eventually, freePort, migrate, PostgresProcess, seedOrganization, startTestApi, type TestApi } from '@capstan/testing';
import { Logger } from '@nestjs/common';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Stops and restarts a PostgreSQL and a Redis of this test's own (never the shared servers other
 * tests use) under a running API, and watches /readyz follow without a restart.
 */
describe('readiness under dependency faults', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'capstan-readyz-'));
  let postgres: PostgresProcess;
  let redis: EmbeddedRedisServer;
  let api: TestApi;
  let token: string;

  const readyz = () => api.app.inject({ method: 'GET', url: '/readyz' });

  beforeAll(async () => {
    chmodSync(dataDir, 0o755); // Postgres runs as its own user when tests run as root
    postgres = new PostgresProcess(join(dataDir, 'pg'), await freePort());
    redis = new EmbeddedRedisServer({ port: await freePort() });
    await Promise.all([postgres.start(), redis.start()]);
    migrate(postgres.url);
    api = await startTestApi({ REDIS_URL: redis.url }, { name: 'capstan', url: postgres.url, drop: async () => undefined });
    token = (await seedOrganization(api.app.get(PrismaService))).token;
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await Promise.all([postgres?.stop(), redis?.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 problem+json while PostgreSQL is down and recovers by itself', async () => {
    expect((await readyz()).statusCode).toBe(200);

    await postgres.stop();
    const down = await readyz();
    expect(down.statusCode).toBe(503);
    expect(down.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(down.json()).toMatchObject({
      type: 'https://capstan.dev/problems/service-unavailable',
      status: 503,
      detail: 'not ready: postgres unreachable',
      checks: { postgres: { status: 'down' }, redis: { status: 'up' } },
    });
    expect(down.body).not.toContain(postgres.url);

    await postgres.start();
    await eventually(async () => (await readyz()).statusCode === 200, 15_000);
  }, 60_000);

  it('answers every request 503 problem+json with Retry-After while PostgreSQL is down, logging the outage once, and recovers by itself', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const error = jest.spyOn(Logger.prototype, 'error');
    const log = jest.spyOn(Logger.prototype, 'log');
    const headers = { authorization: `Bearer ${token}` };
    try {
      await postgres.stop();
      for (let i = 0; i < 5; i++) {
        for (const res of [
          await api.app.inject({ method: 'GET', url: '/v1/clusters', headers }),
          await api.app.inject({ method: 'POST', url: '/v1/clusters', headers, payload: clusterRequest({ name: `outage-${i}` }) }),
        ]) {
          expect(res.statusCode).toBe(503);
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(res.headers['retry-after']).toBe('5');
          expect(res.json()).toMatchObject({ type: 'https://capstan.dev/problems/dependency-unavailable', status: 503 });
          expect(res.body).not.toContain(postgres.url);
        }
      }
      const outageLines = (spy: jest.SpyInstance) => spy.mock.calls.filter((call) => JSON.stringify(call).includes('postgres')).length;
      expect(outageLines(warn)).toBe(1);
      expect(error.mock.calls.filter((call) => JSON.stringify(call).includes('unhandled error'))).toEqual([]);

      await postgres.start();
      await eventually(async () => (await api.app.inject({ method: 'GET', url: '/v1/clusters', headers })).statusCode === 200, 15_000);
      expect(log.mock.calls.filter((call) => JSON.stringify(call).includes('postgres reachable again'))).toHaveLength(1);
    } finally {
      warn.mockRestore();
      error.mockRestore();
      log.mockRestore();
    }
  }, 60_000);

  it('answers 503 naming Redis while Redis is down and recovers by itself', async () => {
    await redis.stop();
    const down = await readyz();
    expect(down.statusCode).toBe(503);
    expect(down.json().checks).toEqual({ postgres: { status: 'up' }, redis: { status: 'down', message: 'connection failed' } });

    await redis.start();
    await eventually(async () => (await readyz()).statusCode === 200, 15_000);
  }, 60_000);
});
