import { EmbeddedRedisServer } from '@capstan/platform';
import { eventually, freePort, migrate, PostgresProcess, startTestApi, type TestApi } from '@capstan/testing';
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

  const readyz = () => api.app.inject({ method: 'GET', url: '/readyz' });

  beforeAll(async () => {
    chmodSync(dataDir, 0o755); // Postgres runs as its own user when tests run as root
    postgres = new PostgresProcess(join(dataDir, 'pg'), await freePort());
    redis = new EmbeddedRedisServer({ port: await freePort() });
    await Promise.all([postgres.start(), redis.start()]);
    migrate(postgres.url);
    api = await startTestApi({ REDIS_URL: redis.url }, { name: 'capstan', url: postgres.url, drop: async () => undefined });
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

  it('answers 503 naming Redis while Redis is down and recovers by itself', async () => {
    await redis.stop();
    const down = await readyz();
    expect(down.statusCode).toBe(503);
    expect(down.json().checks).toEqual({ postgres: { status: 'up' }, redis: { status: 'down', message: 'connection failed' } });

    await redis.start();
    await eventually(async () => (await readyz()).statusCode === 200, 15_000);
  }, 60_000);
});
