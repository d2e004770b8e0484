import { SimulatedProvider } from '@capstan/providers';
import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { Agent, request } from 'node:https';
import { type RunningSimulator, startSimulator } from '../src';

export interface TestSimulator {
  simulator: RunningSimulator;
  provider: SimulatedProvider;
  db: TestDatabase;
  /** A call to the simulator's JSON API (chaos, stats, seeding). */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** A GET on a simulated API server over HTTPS, trusting only the simulator's CA. */
  kube(server: string, path: string, token?: string, servername?: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

/** A simulator of this test file's own, on its own database, with transitions as fast as asked. */
export async function startTestSimulator(
  options: { stepDelayMs?: number; eventTtlSeconds?: number; kubeClock?: () => Date; database?: TestDatabase; timeoutMs?: number } = {},
): Promise<TestSimulator> {
  const db = options.database ?? (await createTestDatabase());
  const simulator = await startSimulator({
    databaseUrl: db.url,
    host: '127.0.0.1',
    apiPort: 0,
    kubePort: 0,
    stepDelayMs: options.stepDelayMs ?? 0,
    ...(options.eventTtlSeconds ? { eventTtlSeconds: options.eventTtlSeconds } : {}),
    ...(options.kubeClock ? { kubeClock: options.kubeClock } : {}),
  });
  const provider = new SimulatedProvider({ apiUrl: simulator.apiUrl, timeoutMs: options.timeoutMs ?? 10_000 });
  const agent = new Agent({ keepAlive: true, maxSockets: 32, ca: simulator.caCertificate });

  return {
    simulator,
    provider,
    db,
    async api<T>(method: string, path: string, body?: unknown) {
      const response = await fetch(`${simulator.apiUrl}${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    kube(server: string, path: string, token?: string, servername?: string) {
      return new Promise((resolve, reject) => {
        const url = new URL(`${server}${path}`);
        const headers = token ? { authorization: `Bearer ${token}` } : {};
        request(url, { agent, ca: simulator.caCertificate, headers, ...(servername ? { servername } : {}) }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
    },
    async close() {
      agent.destroy();
      await simulator.close();
      if (!options.database) await db.drop();
    },
  };
}

export const clusterSpec = (name: string, version = '1.34.2') => ({
  name,
  flavour: 'rke2' as const,
  region: 'ch-gva-2',
  version,
  labels: { team: 'payments' },
});

export const poolSpec = (name: string, overrides: Partial<{ count: number; version: string }> = {}) => ({
  name,
  machineType: 'standard-4',
  count: overrides.count ?? 2,
  autoscaling: null,
  version: overrides.version ?? '1.34.2',
  labels: { workload: 'general' },
  taints: [],
  maxSurge: 1,
  maxUnavailable: 0,
});
