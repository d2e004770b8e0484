/**
 * The Kubernetes API emulator at fleet scale, in one simulator process (a child, measured on its
 * own): BENCH_KUBE_SERVERS [1000] workload API servers, each probed on /readyz every
 * BENCH_KUBE_PROBE_INTERVAL_MS [10000] (spread evenly, as the SLA monitor spreads its probes) and
 * watched by one open watch (ConfigMaps of `default`), while this process writes
 * BENCH_KUBE_WRITES_PER_SECOND [10] ConfigMaps to random servers through its own emulator on the
 * same database (so the child learns of them over LISTEN/NOTIFY and fans them out to the watches).
 * Measured over BENCH_KUBE_SECONDS [60] after setup: the child's CPU share (cores) and peak RSS
 * beside the goals (under 1 core, under 1 GB), probe latency, events delivered.
 *
 * Goals are reported, never enforced.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { SimulatorDatabase } from '../apps/simulator/src/database';
import { createKubeEmulator } from '../apps/simulator/src/kube/emulator';
import { silentLogger } from '../apps/simulator/src/logger';
import { numberSetting } from './support/environment';
import { cpuMs, rssKb } from './support/processes';
import { createScratchDatabase } from './support/scratch-database';
import { int, ms, percentile, printTable, sortedCopy } from './support/stats';

const SERVERS = numberSetting('BENCH_KUBE_SERVERS', 1_000);
const PROBE_INTERVAL_MS = numberSetting('BENCH_KUBE_PROBE_INTERVAL_MS', 10_000);
const WRITES_PER_SECOND = numberSetting('BENCH_KUBE_WRITES_PER_SECOND', 10);
const SECONDS = numberSetting('BENCH_KUBE_SECONDS', 60);
const DOMAIN = 'clusters.simulator.capstan.test';
const CPU_GOAL_CORES = 1;
const RSS_GOAL_MB = 1024;

interface Simulator {
  child: ChildProcess;
  kubeUrl: string;
  caCertificate: string;
}

async function startChild(databaseUrl: string): Promise<Simulator> {
  const child = fork(join(__dirname, 'support', 'simulator-process.js'), [databaseUrl, '0'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return await new Promise<Simulator>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
    child.once('message', (m: { kubeUrl: string; caCertificate: string }) => resolve({ child, ...m }));
  });
}

function get(agent: Agent, url: string, server: string, path: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      { agent, servername: `${server}.${DOMAIN}`, headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  console.log(
    `kube-emulator: ${int(SERVERS)} API servers, /readyz every ${PROBE_INTERVAL_MS} ms each, one watch each, ${WRITES_PER_SECOND} writes/s, ${SECONDS} s`,
  );
  const database = await createScratchDatabase();
  const db = new SimulatorDatabase(database.url, 10);
  await db.migrate();
  const sim = await startChild(database.url);
  const writer = await createKubeEmulator({ db, databaseUrl: database.url, kubeDomain: DOMAIN, caCertificatePem: sim.caCertificate, log: silentLogger });
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: sim.caCertificate });
  const watchAgent = new Agent({ keepAlive: false, ca: sim.caCertificate });
  const watches: ReturnType<typeof request>[] = [];
  try {
    const setupStart = Date.now();
    const names = Array.from({ length: SERVERS }, (_, i) => `capstan-bench-${i.toString().padStart(5, '0')}`);
    const tokens = new Map<string, string>();
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names.slice(i, i + 50).map(async (name) => {
          await writer.ensureApiServer({ name, role: 'workload', distribution: 'rke2', version: '1.34.2+rke2r1' });
          tokens.set(name, (await writer.issueToken(name, { subject: 'bench', ttlSeconds: null })).token);
        }),
      );
    }
    console.log(`setup: ${int(SERVERS)} API servers in ${ms((Date.now() - setupStart) / 1000, 1)} s`);

    let events = 0;
    let watchFailures = 0;
    const openWatch = (name: string) =>
      new Promise<void>((resolve) => {
        const req = request(
          new URL('/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true', sim.kubeUrl),
          { agent: watchAgent, servername: `${name}.${DOMAIN}`, headers: { authorization: `Bearer ${tokens.get(name)!}` } },
          (res) => {
            if (res.statusCode !== 200) watchFailures++;
            let partial = '';
            res.on('data', (chunk: Buffer) => {
              const lines = (partial + chunk.toString()).split('\n');
              partial = lines.pop()!;
              for (const line of lines) if (line.startsWith('{"type":"ADDED"')) events++;
            });
            resolve();
          },
        );
        req.on('error', () => {
          watchFailures++;
          resolve();
        });
        req.end();
        watches.push(req);
      });
    // In batches: a thousand TLS handshakes at once is not what a fleet's watches do.
    for (let i = 0; i < names.length; i += 100) await Promise.all(names.slice(i, i + 100).map(openWatch));
    console.log(`setup: ${int(SERVERS - watchFailures)} watches open`);

    const latencies: number[] = [];
    let probeFailures = 0;
    let writes = 0;
    const cpuStart = cpuMs(sim.child.pid!);
    const start = Date.now();
    let peakRss = 0;
    const end = start + SECONDS * 1000;
    const spacing = PROBE_INTERVAL_MS / SERVERS;
    const probing = (async () => {
      const pending = new Set<Promise<void>>();
      for (let round = 0; Date.now() < end; round++) {
        for (let i = 0; i < names.length && Date.now() < end; i++) {
          const due = start + round * PROBE_INTERVAL_MS + i * spacing;
          const wait = due - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          const began = performance.now();
          const probe = get(agent, sim.kubeUrl, names[i]!, '/readyz')
            .then((status) => {
              if (status === 200) latencies.push(performance.now() - began);
              else probeFailures++;
            })
            .catch(() => void probeFailures++)
            .finally(() => pending.delete(probe));
          pending.add(probe);
        }
      }
      await Promise.all(pending);
    })();
    const writing = (async () => {
      while (Date.now() < end) {
        const name = names[Math.floor(Math.random() * names.length)]!;
        await writer.server(name).create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: '', generateName: 'bench-', namespace: 'default' },
          data: { at: new Date().toISOString() },
        });
        writes++;
        await new Promise((resolve) => setTimeout(resolve, 1000 / WRITES_PER_SECOND));
      }
    })();
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssKb(sim.child.pid!) ?? 0)), 500);
    await Promise.all([probing, writing]);
    clearInterval(sampler);
    const elapsed = (Date.now() - start) / 1000;
    const cores = (cpuMs(sim.child.pid!) - cpuStart) / 1000 / elapsed;
    peakRss = Math.max(peakRss, rssKb(sim.child.pid!) ?? 0);
    const sorted = sortedCopy(latencies);
    const rssMb = peakRss / 1024;

    console.log();
    printTable(
      ['measure', '>value', 'goal'],
      [
        ['simulator CPU (cores)', ms(cores, 3), `< ${CPU_GOAL_CORES} ${cores < CPU_GOAL_CORES ? 'met' : 'MISSED'}`],
        ['simulator peak RSS (MB)', ms(rssMb, 0), `< ${RSS_GOAL_MB} ${rssMb < RSS_GOAL_MB ? 'met' : 'MISSED'}`],
        ['/readyz probes ok', int(latencies.length), ''],
        ['/readyz probes failed', int(probeFailures), ''],
        ['/readyz p50 (ms)', ms(percentile(sorted, 0.5)), ''],
        ['/readyz p99 (ms)', ms(percentile(sorted, 0.99)), ''],
        ['watches open', int(SERVERS - watchFailures), ''],
        ['writes', int(writes), ''],
        ['watch events delivered', int(events), `= writes (${events >= writes ? 'all' : 'SOME MISSING'})`],
      ],
    );
  } finally {
    for (const req of watches) req.destroy();
    agent.destroy();
    watchAgent.destroy();
    await writer.close();
    sim.child.send({ type: 'stop' });
    await new Promise((resolve) => sim.child.once('exit', resolve));
    await db.close();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
