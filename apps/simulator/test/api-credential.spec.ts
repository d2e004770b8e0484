import { ProviderError, SimulatedProvider } from '@capstan/providers';
import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { type RunningSimulator, startSimulator } from '../src';

const TOKEN = 'sim-0123456789abcdef0123456789abcdef';

/** The simulated cloud's JSON API wants a credential, as a real cloud API does. */
describe('the simulated cloud API credential', () => {
  let db: TestDatabase;
  let simulator: RunningSimulator;

  beforeAll(async () => {
    db = await createTestDatabase();
    simulator = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, stepDelayMs: 0, apiToken: TOKEN });
  });

  afterAll(async () => {
    await simulator.close();
    await db.drop();
  });

  it('answers a caller without the token, or with another, 401 and nothing else', async () => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer sim-wrong' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: TOKEN },
    ]) {
      const res = await fetch(`${simulator.apiUrl}/v1/clusters`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="simulated-cloud"');
      expect(await res.json()).toEqual({ code: 'unauthenticated', message: expect.any(String) });
    }
    // Even a route that does not exist says 401, not what exists.
    expect((await fetch(`${simulator.apiUrl}/v1/nothing`)).status).toBe(401);
  });

  it('serves the provider that holds the token, and refuses one that does not', async () => {
    const holder = new SimulatedProvider({ apiUrl: simulator.apiUrl, apiToken: TOKEN });
    await expect(holder.getCluster('absent')).resolves.toBeNull();
    const stranger = new SimulatedProvider({ apiUrl: simulator.apiUrl });
    await expect(stranger.getCluster('absent')).rejects.toBeInstanceOf(ProviderError);
  });
});
