import { outageLog, PrismaService } from '@capstan/platform';
import { freePort, seedStaff, startTestApi, type TestApi } from '@capstan/testing';

/**
 * A cloud that does not answer is named as such (docs/dependency-outages.md): with the simulated
 * cloud's URL pointing at a closed port, its routes are 503 naming the simulated cloud, and no
 * Postgres outage is recorded (a refused socket of any HTTP call was taken for the database).
 */
describe('an unreachable simulated cloud', () => {
  let api: TestApi;
  let staff: { authorization: string };
  let port: number;

  beforeAll(async () => {
    // A port that was just free: nothing listens on it, so every connection is refused.
    port = await freePort();
    api = await startTestApi({ PROVIDER: 'simulated', SIMULATOR_URL: `http://127.0.0.1:${port}` });
    staff = { authorization: `Bearer ${(await seedStaff(api.app.get(PrismaService), 'admin')).token}` };
  }, 60_000);

  afterAll(async () => {
    await api.close();
  }, 30_000);

  it('answers a simulator route 503 naming the simulated cloud, and records its outage, not one of Postgres', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/admin/v1/simulator/faults', headers: staff });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toMatchObject({
      type: 'https://capstan.dev/problems/dependency-unavailable',
      status: 503,
      detail: 'the simulated cloud is unreachable; retry in 5 s',
    });
    // Neither the driver's message nor the configured host reaches the client.
    expect(res.body).not.toMatch(new RegExp(`ECONNREFUSED|127\\.0\\.0\\.1|${port}|database`));
    expect(outageLog.isDown('simulated-cloud')).toBe(true);
    expect(outageLog.isDown('postgres')).toBe(false);
  });

  it('still serves what needs only Postgres, and a write to the cloud is refused the same way', async () => {
    const readiness = await api.app.inject({ method: 'GET', url: '/readyz' });
    expect(readiness.statusCode).toBe(200);
    const clear = await api.app.inject({ method: 'DELETE', url: '/admin/v1/simulator/faults', headers: staff });
    expect(clear.statusCode).toBe(503);
    expect(clear.json().detail).toBe('the simulated cloud is unreachable; retry in 5 s');
    expect(outageLog.isDown('postgres')).toBe(false);
  });
});
