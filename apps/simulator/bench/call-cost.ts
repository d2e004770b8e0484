import { managedAddonsFor } from '@capstan/domain';
import { pgConnectionFromUrl } from '@capstan/platform';
import { SimulatedProvider } from '@capstan/providers';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startSimulator } from '../src';

/**
 * What one provider call costs the simulated cloud and its client: Postgres round trips (counted
 * in the simulator's process), CPU of each side and latency, for the calls a cluster create makes
 * (ensureCluster, getCluster, ensureNodePool x2, getNodePool x2, installAddons, issueCredentials).
 *
 *   npm run build && node dist/apps/simulator/bench/call-cost.js [clusters=300] [inFlight=1] [databaseUrl]
 *
 * The simulator runs in a child process so that each side's CPU is its own. Counts are exact;
 * times on a shared machine are not: compare counts first.
 */
const CALLS_PER_CLUSTER = 8;

interface ServerReport {
  roundTrips: Record<string, number>;
  cpuMicros: number;
}

async function serve(databaseUrl: string): Promise<void> {
  const roundTrips: Record<string, number> = {};
  const proto = Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '?');
    const kind = text.trim().replace(/\s+/g, ' ').slice(0, 40);
    roundTrips[kind] = (roundTrips[kind] ?? 0) + 1;
    return query.apply(this, args);
  };
  const simulator = await startSimulator({ databaseUrl, host: '127.0.0.1', apiPort: 0, kubePort: 0, stepDelayMs: 0, databasePoolSize: 20 });
  let cpuAtReset = process.cpuUsage();
  process.on('message', (message: string) => {
    if (message === 'reset') {
      for (const key of Object.keys(roundTrips)) delete roundTrips[key];
      cpuAtReset = process.cpuUsage();
      process.send!({ type: 'reset' });
    } else if (message === 'report') {
      const cpu = process.cpuUsage(cpuAtReset);
      process.send!({ type: 'report', report: { roundTrips: { ...roundTrips }, cpuMicros: cpu.user + cpu.system } satisfies ServerReport });
    } else if (message === 'stop') {
      void simulator.close().finally(() => process.exit(0));
    }
  });
  process.send!({ type: 'ready', apiUrl: simulator.apiUrl });
}

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (reply: { type: string; report?: T }) => {
      if (reply.type !== message) return;
      child.off('message', onMessage);
      resolve(reply.report as T);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

async function createCluster(provider: SimulatedProvider, name: string): Promise<void> {
  const pool = (suffix: string) => ({
    name: `pool-${suffix}`,
    machineType: 'standard-4',
    count: 3,
    autoscaling: null,
    version: '1.34.2',
    labels: {},
    taints: [],
    maxSurge: 1,
    maxUnavailable: 0,
  });
  await provider.ensureCluster({ name, flavour: 'rke2', region: 'ch-gva-2', version: '1.34.2', labels: { team: 'bench' } });
  await provider.getCluster(name);
  await provider.ensureNodePool(name, pool('a'));
  await provider.ensureNodePool(name, pool('b'));
  await provider.getNodePool(name, 'pool-a');
  await provider.getNodePool(name, 'pool-b');
  await provider.installAddons(name, managedAddonsFor('1.34.2'));
  await provider.issueCredentials(name, 3600);
}

async function run(clusters: number, inFlight: number, adminUrl: string): Promise<void> {
  const admin = new Client(pgConnectionFromUrl(adminUrl));
  await admin.connect();
  const database = `capstan_callcost_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;

  const child = fork(__filename, ['serve', url.toString()], { stdio: 'inherit' });
  try {
    const [ready] = (await once(child, 'message')) as [{ apiUrl: string }];
    const provider = new SimulatedProvider({ apiUrl: ready.apiUrl });
    const batch = async (prefix: string, count: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < count) await createCluster(provider, `${prefix}-${String(next++).padStart(5, '0')}`);
        }),
      );
    };
    await batch('capstan-warm', Math.min(50, clusters));

    await ask(child, 'reset');
    const clientCpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    await batch('capstan-bench', clusters);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    const clientCpuMicros = Object.values(process.cpuUsage(clientCpu)).reduce((a, b) => a + b, 0);
    const server = await ask<ServerReport>(child, 'report');

    const calls = clusters * CALLS_PER_CLUSTER;
    const total = Object.values(server.roundTrips).reduce((a, b) => a + b, 0);
    const top = Object.entries(server.roundTrips)
      .sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => `    ${(n / calls).toFixed(2).padStart(6)}  ${kind}`);
    console.log(`${clusters} cluster creates x ${CALLS_PER_CLUSTER} calls, ${inFlight} in flight`);
    console.log(`  Postgres round trips per call: ${(total / calls).toFixed(2)} (per create sequence ${(total / clusters).toFixed(1)})`);
    console.log(top.join('\n'));
    console.log(`  CPU per call: simulator ${(server.cpuMicros / calls).toFixed(0)} µs, client ${(clientCpuMicros / calls).toFixed(0)} µs`);
    console.log(`  wall time per call: ${((elapsedMs / calls) * inFlight).toFixed(2)} ms latency, ${(calls / (elapsedMs / 1000)).toFixed(0)} calls/s`);
  } finally {
    child.send('stop');
    await once(child, 'exit');
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

const [mode, ...rest] = process.argv.slice(2);
const main = mode === 'serve' ? serve(rest[0]!) : run(Number(mode ?? 300), Number(rest[0] ?? 1), rest[1] ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
main.catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
