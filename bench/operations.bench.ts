/**
 * Issue 4 and 9, the operations engine end to end: cluster creates through the real API (HTTP
 * `POST /v1/clusters`, `startStack()`: API and simulated cloud in this process, zero step delay)
 * carried out by 2 real worker processes (`dist/apps/worker`: outbox relay -> BullMQ -> processor
 * -> runner -> simulated provider), from the first 202 to the last operation `succeeded` in
 * Postgres. The baseline, in the same run and against the same simulated cloud: the same creates
 * hand-written with plain `pg` and BullMQ, making the same commits and the same cloud calls, on 2
 * worker processes at the same concurrency (support/baseline-operations.ts); the table prints
 * both sides' commits and cloud calls per operation, so the work can be seen to match. The
 * ratio is Capstan / baseline throughput (issue 9 (b): >= 0.5x); goals are printed, never enforced.
 *
 * Engine settings are the production defaults (JOB_LOCK_MS, RECONCILE_INTERVAL_MS,
 * OPERATION_BACKOFF_MS), not startStack's test ones, which would e.g. reconcile every second.
 *
 * Knobs for quick local runs: BENCH_OPERATIONS [1000], BENCH_IN_FLIGHT [20] (creates / adds
 * outstanding), BENCH_WARMUP_OPERATIONS [20], BENCH_TIMEOUT_SECONDS [150] (for the measured run).
 * Goals of issue 9, printed beside the table: (a) the two workers' peak Postgres connections
 * (<= 40, counted by their application_name) and peak RSS (< 300 MB each) while BENCH_IN_FLIGHT
 * operations are in flight (the issue asks for 10,000: set BENCH_IN_FLIGHT and BENCH_OPERATIONS);
 * (c) outbox relay lag, from the API's COMMIT of the message (support/commit-times.ts) to its
 * dispatch, BullMQ having accepted the job (p50 <= 20 ms, p99 <= 50 ms).
 * BENCH_CPU_PROF=<dir> writes CPU profiles of the measured run (each worker and this process)
 * and prints the round trips to Postgres and Redis per operation, counted in each process.
 */
import { resolveVersionForCreate, VERSION_CATALOGUE } from '@capstan/domain';
import { environmentSchema } from '@capstan/platform';
import { externalClusterName } from '@capstan/providers';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { clusterRequest, seedOrganization } from '../libs/testing/src/fixtures';
import { type Stack, startStack } from '../libs/testing/src/stack';
import { pgConnectionFromUrl } from '../libs/platform/src/database/pg-connection';
import { type OperationsBaselineResult, runOperationsBaseline, withBoundedConcurrency } from './support/baseline-operations';
import { databaseUrl, numberSetting, REDIS_URL } from './support/environment';
import { isLocalPostgres, machineCpu, type ProcessUsage, sampleProcesses } from './support/processes';
import { type CallCounts, countCalls } from './support/call-counter';
import { recordOutboxCommits } from './support/commit-times';
import { startCpuProfile } from './support/cpu-profile';
import { cleanRedis } from './support/redis';
import { createScratchDatabase, type ScratchDatabase } from './support/scratch-database';
import { HUGE_QUOTA } from './support/seed';
import { spawnStackWorker, waitForOperationWorkers } from './support/stack';
import { goal, int, ms, percentile, printTable, ratio } from './support/stats';

const OPERATIONS = numberSetting('BENCH_OPERATIONS', 1_000);
const IN_FLIGHT = numberSetting('BENCH_IN_FLIGHT', 20);
const WARMUP = numberSetting('BENCH_WARMUP_OPERATIONS', 20);
const TIMEOUT_MS = numberSetting('BENCH_TIMEOUT_SECONDS', 150) * 1000;
const WORKERS = 2;
const POOL_SIZE = 10;
const GOAL = { atLeast: 0.5 };
const TERMINAL = ['succeeded', 'failed', 'cancelled', 'needs_attention'];
const PROFILE_DIR = process.env.BENCH_CPU_PROF;
const WORKER_APP = 'capstan-bench-worker';
/** The workers' pool connections and their outbox relays' LISTEN connections (a Client of its own). */
const WORKER_CONNECTIONS = [WORKER_APP, 'capstan-outbox-relay'];
const GOALS = { workerConnections: 40, workerRssMb: 300, relayP50Ms: 20, relayP99Ms: 50 };

/** A setting's default from the config schema (libs/platform/src/config/config.ts). */
const defaultOf = (setting: 'WORKER_CONCURRENCY' | 'OPERATION_MAX_ATTEMPTS' | 'OPERATION_BACKOFF_MS' | 'JOB_LOCK_MS' | 'RECONCILE_INTERVAL_MS') =>
  environmentSchema.shape[setting].parse(undefined);
/** The production engine defaults instead of startStack's test ones. */
const ENGINE_ENV = {
  JOB_LOCK_MS: String(defaultOf('JOB_LOCK_MS')),
  RECONCILE_INTERVAL_MS: String(defaultOf('RECONCILE_INTERVAL_MS')),
  OPERATION_BACKOFF_MS: String(defaultOf('OPERATION_BACKOFF_MS')),
};

interface OperationRow {
  id: string;
  status: string;
  cluster_id: string;
  created: string;
  queued: string;
  dispatched: string | null;
  started: string | null;
  finished: string | null;
}

interface DatabaseCounters {
  commits: number;
  written: number;
}

interface CapstanResult {
  wallMs: number;
  rows: OperationRow[];
  clusterIds: string[];
  refused: string[];
  workers: ProcessUsage[];
  benchCpuMs: number;
  postgresCpuMs: number;
  /** Share of the machine's CPU time that was busy, and busy ms of processes other than the above. */
  machineBusy: number;
  otherCpuMs: number;
  database: DatabaseCounters;
  /** The most operations seen in flight (accepted, not finished) and worker connections at once. */
  peakInFlight: number;
  peakWorkerConnections: number;
  simulatorCalls: number;
  /** External cluster name -> how many times the simulated cloud created it. */
  creates: Map<string, number>;
  /** With BENCH_CPU_PROF: round trips of the workers (summed) and of this process. */
  calls?: { workers: CallCounts; here: CallCounts };
  /** Operation id -> when the API's transaction that wrote its outbox message committed (epoch ms). */
  commits: Map<string, number>;
}

const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));
/** Waits for `work` at most `msec` (and never throws): cleaning up must not hang on one part. */
const settleWithin = (work: Promise<unknown> | undefined, msec: number) => Promise.race([work?.catch(() => undefined), sleep(msec)]);
/** Aborted on Ctrl-C / SIGTERM: stops sending creates and waiting, so the API can close. */
const abort = new AbortController();
const sorted = (values: number[]) => Float64Array.from(values.filter(Number.isFinite)).sort();
const mb = (kb: number) => (Number.isFinite(kb) ? (kb / 1024).toFixed(0) : 'n/a');

async function databaseCounters(name: string): Promise<DatabaseCounters> {
  const admin = new Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ commits: string; written: string }>(
      'SELECT xact_commit AS commits, tup_inserted + tup_updated + tup_deleted AS written FROM pg_stat_database WHERE datname = $1',
      [name],
    );
    return { commits: Number(rows[0]?.commits), written: Number(rows[0]?.written) };
  } finally {
    await admin.end();
  }
}

async function simulatorCallCount(stack: Stack): Promise<number> {
  const summary = (await (await fetch(`${stack.simulator.apiUrl}/v1/stats`)).json()) as { calls: Record<string, number> };
  return Object.values(summary.calls).reduce((a, b) => a + b, 0);
}

/** Sends `count` creates for the organisation, `IN_FLIGHT` at a time; the clusters' ids and operations' ids of the 202s. */
async function sendCreates(stack: Stack, token: string, prefix: string, count: number, onAccepted?: () => void) {
  const clusterIds: string[] = [];
  const operationIds: string[] = [];
  const refused: string[] = [];
  await withBoundedConcurrency(0, count, IN_FLIGHT, async (i) => {
    abort.signal.throwIfAborted();
    const response = await fetch(`${stack.apiUrl}/v1/clusters`, {
      signal: abort.signal,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(clusterRequest({ name: `${prefix}-${String(i).padStart(4, '0')}` })),
    });
    const text = await response.text();
    if (response.status !== 202) {
      refused.push(`${response.status} ${text.slice(0, 200)}`);
      return;
    }
    onAccepted?.();
    const body = JSON.parse(text) as { cluster: { id: string }; operation: { id: string } };
    clusterIds.push(body.cluster.id);
    operationIds.push(body.operation.id);
  });
  return { clusterIds, operationIds, refused };
}

/** What this run started and must stop. */
interface Owned {
  stack?: Stack;
  children: ChildProcess[];
  /** Called once the stack is up. */
  afterStart?: () => void;
}

/**
 * The stack (API and simulated cloud in this process), the hand-written baseline against its
 * simulated cloud before any Capstan worker starts, then Capstan's run.
 */
async function runCapstan(
  db: ScratchDatabase,
  redisPrefix: string,
  concurrency: number,
  own: Owned,
): Promise<{ capstan: CapstanResult; baseline: OperationsBaselineResult }> {
  const stack = await startStack({
    database: db,
    stepDelayMs: 0,
    inProcessWorker: false,
    env: { REDIS_URL, REDIS_PREFIX: redisPrefix, DATABASE_POOL_SIZE: String(POOL_SIZE), RATE_LIMIT_PER_MINUTE: '1000000', ...ENGINE_ENV },
  });
  own.stack = stack;
  own.afterStart?.();
  if (stack.config.engine.concurrency !== concurrency)
    throw new Error(`workers run ${stack.config.engine.concurrency} jobs at a time, the baseline ${concurrency}`);
  const warmupOrg = await seedOrganization(stack.prisma, HUGE_QUOTA);
  const org = await seedOrganization(stack.prisma, HUGE_QUOTA);

  // The version and pool Capstan's creates get (clusterRequest, the catalogue's default), so the
  // baseline asks the cloud for the same.
  const template = clusterRequest();
  const version = resolveVersionForCreate('rke2', undefined, new Date(), VERSION_CATALOGUE.entries).patch;
  const baseline = await runOperationsBaseline({
    databaseUrl: db.url,
    redisUrl: REDIS_URL,
    redisPrefix,
    simulatorUrl: stack.simulator.apiUrl,
    version,
    region: template.region,
    pool: { machineType: template.node_pools[0]!.machine_type, count: template.node_pools[0]!.count },
    operations: OPERATIONS,
    warmup: WARMUP,
    inFlight: IN_FLIGHT,
    workers: WORKERS,
    concurrency,
    poolSize: POOL_SIZE,
    lockMs: Number(ENGINE_ENV.JOB_LOCK_MS),
    attempts: defaultOf('OPERATION_MAX_ATTEMPTS'),
    backoffMs: Number(ENGINE_ENV.OPERATION_BACKOFF_MS),
    timeoutMs: TIMEOUT_MS,
  });

  // With BENCH_CPU_PROF, workers profile themselves between two SIGWINCH (support/cpu-profile-preload.ts).
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  const profileEnv: Record<string, string> = PROFILE_DIR
    ? { BENCH_CPU_PROF: PROFILE_DIR, NODE_OPTIONS: `--require ${join(__dirname, 'support', 'cpu-profile-preload.js')}` }
    : {};
  // PGAPPNAME names the workers' connections (pg reads it), so they can be counted apart.
  const children = await Promise.all(Array.from({ length: WORKERS }, () => spawnStackWorker(stack, { ...profileEnv, PGAPPNAME: WORKER_APP })));
  own.children.push(...children);
  const sampler = sampleProcesses(children.map((c) => c.pid!));
  // The database's backends, when the server runs on this machine, sampled for their CPU time.
  const backends = sampleProcesses([], 1_000);
  await waitForOperationWorkers(stack, WORKERS, children);

  const poll = new Client({ ...pgConnectionFromUrl(db.url), application_name: 'capstan-bench' });
  const here = PROFILE_DIR
    ? countCalls((application) => (application === 'capstan-simulator' ? 'simulator' : application === 'capstan-bench' ? 'bench' : 'api'))
    : undefined;
  await poll.connect();
  // Statements of this process, which are not Capstan's, taken off the database's counters.
  let polls = 0;
  const findBackends = async () => {
    polls++;
    const { rows } = await poll.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [db.name]);
    for (const { pid } of rows) if (isLocalPostgres(pid)) backends.add(pid);
  };
  let peakInFlight = 0;
  let peakWorkerConnections = 0;
  const terminalCount = async (organizationId: string) => {
    if (polls % 5 === 0) await findBackends();
    polls++;
    const { rows } = await poll.query<{ n: string; active: string; connections: string }>(
      `SELECT count(*) FILTER (WHERE status::text = ANY($2::text[])) AS n, count(*) FILTER (WHERE NOT status::text = ANY($2::text[])) AS active,
              (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = ANY($3::text[])) AS connections
         FROM operations WHERE organization_id = $1`,
      [organizationId, TERMINAL, WORKER_CONNECTIONS],
    );
    peakInFlight = Math.max(peakInFlight, Number(rows[0]!.active));
    peakWorkerConnections = Math.max(peakWorkerConnections, Number(rows[0]!.connections));
    return Number(rows[0]!.n);
  };
  const waitForTerminal = async (organizationId: string, count: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while ((await terminalCount(organizationId)) < count && Date.now() < deadline) {
      abort.signal.throwIfAborted();
      await sleep(200);
    }
  };

  try {
    // Warm-up: JIT, connection pools and prepared paths of API, relay, workers and simulator.
    const warm = await sendCreates(stack, warmupOrg.token, 'warm', WARMUP);
    await waitForTerminal(warmupOrg.organizationId, warm.operationIds.length, 60_000);
    peakInFlight = 0;
    peakWorkerConnections = 0;

    const [commitsBefore, callsBefore] = await Promise.all([databaseCounters(db.name), simulatorCallCount(stack)]);
    await findBackends();
    const pollsBefore = polls;
    sampler.mark();
    backends.mark();
    here?.reset();
    const profile = PROFILE_DIR ? startCpuProfile() : undefined;
    if (PROFILE_DIR) for (const child of children) child.kill('SIGWINCH');
    const outboxCommits = recordOutboxCommits();
    const machineBefore = machineCpu();
    const benchBefore = process.cpuUsage();
    let firstAccepted: number | undefined;
    const sent = await sendCreates(stack, org.token, 'bench', OPERATIONS, () => (firstAccepted ??= Date.now()));
    await waitForTerminal(org.organizationId, sent.operationIds.length, TIMEOUT_MS);
    const bench = process.cpuUsage(benchBefore);
    outboxCommits.stop();
    const machineAfter = machineCpu();
    const usage = sampler.stop();
    const backendUsage = backends.stop();
    let calls: CapstanResult['calls'];
    if (PROFILE_DIR) {
      for (const child of children) child.kill('SIGWINCH');
      const hereCalls = here!.snapshot();
      await profile!.stop(join(PROFILE_DIR, `bench-${process.pid}.cpuprofile`));
      const files = children.map((c) => join(PROFILE_DIR, `worker-${c.pid}.cpuprofile`));
      const deadline = Date.now() + 30_000;
      while (!files.every((f) => existsSync(f)) && Date.now() < deadline) await sleep(200);
      console.log(
        `  CPU profiles in ${PROFILE_DIR}: bench-${process.pid}.cpuprofile (API + simulated cloud), ${files.map((f) => f.slice(PROFILE_DIR.length + 1)).join(', ')}`,
      );
      const workerCalls = children.map((c) => JSON.parse(readFileSync(join(PROFILE_DIR, `worker-${c.pid}.calls.json`), 'utf8')) as CallCounts);
      calls = { workers: mergeCounts(workerCalls), here: hereCalls };
    }

    const { rows } = await poll.query<OperationRow>(
      `SELECT o.id, o.status::text, o.cluster_id,
              extract(epoch FROM o.created_at) * 1000 AS created, extract(epoch FROM m.created_at) * 1000 AS queued,
              extract(epoch FROM m.dispatched_at) * 1000 AS dispatched,
              extract(epoch FROM o.started_at) * 1000 AS started, extract(epoch FROM o.finished_at) * 1000 AS finished
         FROM operations o LEFT JOIN outbox_messages m ON m.dedupe_key = o.id
        WHERE o.organization_id = $1`,
      [org.organizationId],
    );
    const simulatorCalls = (await simulatorCallCount(stack)) - callsBefore;
    const objects = (await (await fetch(`${stack.simulator.apiUrl}/v1/stats/objects?kind=cluster`)).json()) as { items: { name: string; creates: number }[] };
    const pollsDuring = polls - pollsBefore;
    await poll.end();

    // Every backend flushes its statistics when it exits: stop the stack, then read the counters.
    own.stack = undefined;
    await settleWithin(stack.stop(), 15_000);
    await sleep(500);
    const commitsAfter = await databaseCounters(db.name);

    const lastFinished = Math.max(...rows.filter((r) => r.finished !== null).map((r) => Number(r.finished)));
    const workerUsage = children.map((c) => usage.get(c.pid!)!);
    const postgresCpuMs = [...backendUsage.values()].reduce((sum, u) => sum + (Number.isFinite(u.cpuMs) ? u.cpuMs : 0), 0);
    const capstan: CapstanResult = {
      wallMs: lastFinished - firstAccepted!,
      rows,
      clusterIds: sent.clusterIds,
      refused: sent.refused,
      workers: workerUsage,
      benchCpuMs: (bench.user + bench.system) / 1000,
      postgresCpuMs,
      machineBusy: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
      otherCpuMs:
        machineAfter.busy - machineBefore.busy - workerUsage.reduce((sum, u) => sum + u.cpuMs, 0) - (bench.user + bench.system) / 1000 - postgresCpuMs,
      // The polling queries of this process are not Capstan's.
      database: { commits: commitsAfter.commits - commitsBefore.commits - pollsDuring, written: commitsAfter.written - commitsBefore.written },
      peakInFlight,
      peakWorkerConnections,
      simulatorCalls,
      creates: new Map(objects.items.map((o) => [o.name, o.creates])),
      calls,
      commits: outboxCommits.commits,
    };
    return { capstan, baseline };
  } finally {
    sampler.stop();
    backends.stop();
    await poll.end().catch(() => undefined);
  }
}

function mergeCounts(all: CallCounts[]): CallCounts {
  const merged: CallCounts = { postgres: {}, redis: {} };
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };
  for (const c of all) {
    for (const [group, kinds] of Object.entries(c.postgres)) add((merged.postgres[group] ??= {}), kinds);
    add(merged.redis, c.redis);
  }
  return merged;
}

/** `55.0 (12.0 SELECT operations, 9.0 UPDATE operation_steps, ...)` per operation, the biggest kinds first. */
function perOperation(counts: Record<string, number> | undefined, n: number, top = 6): string {
  const entries = Object.entries(counts ?? {}).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((sum, [, v]) => sum + v, 0);
  const shown = entries.slice(0, top).map(([k, v]) => `${ms(v / n, 1)} ${k}`);
  return `${ms(total / n, 1)}${shown.length ? ` (${shown.join(', ')}${entries.length > top ? ', ...' : ''})` : ''}`;
}

function report(capstan: CapstanResult, baseline: OperationsBaselineResult): boolean {
  const n = OPERATIONS;
  const succeeded = capstan.rows.filter((r) => r.status === 'succeeded');
  const latency = sorted(succeeded.map((r) => Number(r.finished) - Number(r.created)));
  const capstanRate = succeeded.length === n ? (n * 1000) / capstan.wallMs : Number.NaN;
  const baselineRate = baseline.done === n ? (n * 1000) / baseline.wallMs : Number.NaN;
  const capstanCommits = capstan.database.commits / n;
  const workerCpu = (usage: ProcessUsage[]) => usage.reduce((sum, u) => sum + u.cpuMs, 0) / n;

  const rows: string[][] = [
    ['(b) throughput, operations per s', ms(capstanRate, 1), ms(baselineRate, 1), ratio(capstanRate / baselineRate), goal(capstanRate / baselineRate, GOAL)],
    ['wall time s (first accepted -> last done)', ms(capstan.wallMs / 1000, 1), ms(baseline.wallMs / 1000, 1), ratio(capstan.wallMs / baseline.wallMs), ''],
    [
      'latency p50 ms (created -> finished)',
      ms(percentile(latency, 0.5), 0),
      ms(percentile(baseline.latencies, 0.5), 1),
      ratio(percentile(latency, 0.5) / percentile(baseline.latencies, 0.5)),
      '',
    ],
    [
      'latency p99 ms',
      ms(percentile(latency, 0.99), 0),
      ms(percentile(baseline.latencies, 0.99), 1),
      ratio(percentile(latency, 0.99) / percentile(baseline.latencies, 0.99)),
      '',
    ],
    ...capstan.workers.map((w, i) => [
      `worker ${i + 1} peak RSS MB`,
      mb(w.peakRssKb),
      mb(baseline.workers[i]?.peakRssKb ?? Number.NaN),
      ratio(w.peakRssKb / (baseline.workers[i]?.peakRssKb ?? Number.NaN)),
      '',
    ]),
    [
      'worker CPU ms per operation (both)',
      ms(workerCpu(capstan.workers), 1),
      ms(workerCpu(baseline.workers), 2),
      ratio(workerCpu(capstan.workers) / workerCpu(baseline.workers)),
      '',
    ],
    // The same work on both sides: commits (all processes, one database: reads outside a
    // transaction count as one each) and calls to the simulated cloud, per operation.
    ['Postgres commits per operation', ms(capstanCommits, 1), ms(baseline.commitsPerOperation, 1), ratio(capstanCommits / baseline.commitsPerOperation), ''],
    [
      'simulated-cloud calls per operation',
      ms(capstan.simulatorCalls / n, 1),
      ms(baseline.cloudCallsPerOperation, 1),
      ratio(capstan.simulatorCalls / n / baseline.cloudCallsPerOperation),
      '',
    ],
  ];
  printTable(['metric', '>capstan', '>baseline', '>ratio', 'goal'], rows);

  // Issue 9's goals (a) and (c). The relay's lag runs from the API's COMMIT (as the API saw it
  // return, support/commit-times.ts) to the message's dispatch (BullMQ accepted the job). It
  // once ran from the transaction's start (now()), which counted the create's wait on the
  // organisation's row lock: with 20 creates in flight for one organisation, a queue of ~1 s.
  const relayLag = sorted(succeeded.map((r) => Number(r.dispatched) - (capstan.commits.get(r.id) ?? Number.NaN)));
  const written = sorted(succeeded.map((r) => Number(r.dispatched) - Number(r.queued)));
  const committed = succeeded.filter((r) => capstan.commits.has(r.id)).length;
  const peakRssMb = Math.max(...capstan.workers.map((w) => w.peakRssKb / 1024));
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  printTable(
    ['issue 9 goal', '>measured', 'goal', ''],
    [
      ['peak operations in flight (accepted, unfinished)', int(capstan.peakInFlight), 'context', ''],
      [
        '(a) peak Postgres connections, 2 workers',
        int(capstan.peakWorkerConnections),
        `<= ${GOALS.workerConnections}`,
        verdict(capstan.peakWorkerConnections <= GOALS.workerConnections),
      ],
      ['(a) peak RSS MB, largest worker', ms(peakRssMb, 0), `< ${GOALS.workerRssMb}`, verdict(peakRssMb < GOALS.workerRssMb)],
      ['(c) outbox relay lag p50 ms', ms(percentile(relayLag, 0.5), 1), `<= ${GOALS.relayP50Ms}`, verdict(percentile(relayLag, 0.5) <= GOALS.relayP50Ms)],
      ['(c) outbox relay lag p99 ms', ms(percentile(relayLag, 0.99), 1), `<= ${GOALS.relayP99Ms}`, verdict(percentile(relayLag, 0.99) <= GOALS.relayP99Ms)],
    ],
  );
  console.log('  ratio = capstan / baseline: higher is better for throughput, lower for the rest; goals are reported, never enforced');
  console.log(
    `  (c) measured on ${committed}/${succeeded.length} operations (those whose COMMIT this process saw); ` +
      `from the message's write (clock_timestamp(), inside the API's transaction) to dispatch: p50 ${ms(percentile(written, 0.5), 1)} / p99 ${ms(percentile(written, 0.99), 1)} ms`,
  );

  // Where the time goes, Capstan side.
  const split = (from: keyof OperationRow, to: keyof OperationRow) => {
    const values = sorted(succeeded.map((r) => Number(r[to]) - Number(r[from])));
    return `${ms(percentile(values, 0.5), 0)}/${ms(percentile(values, 0.99), 0)}`;
  };
  console.log(
    `  capstan latency split, p50/p99 ms: API transaction start -> relayed to BullMQ ${split('created', 'dispatched')}, ` +
      `relayed -> started by a worker ${split('dispatched', 'started')}, started -> finished ${split('started', 'finished')}`,
  );
  console.log(
    `  capstan per operation: ${ms(capstan.database.commits / n, 1)} Postgres commits and ${ms(capstan.database.written / n, 1)} rows written ` +
      `(API + workers + simulated cloud, one database), ${ms(capstan.simulatorCalls / n, 1)} simulated-cloud calls`,
  );
  console.log(
    `  capstan CPU ms per operation: workers ${ms(workerCpu(capstan.workers), 1)}, this process (API + simulated cloud + client) ${ms(capstan.benchCpuMs / n, 1)}, ` +
      `Postgres backends ${Number.isFinite(capstan.postgresCpuMs) && capstan.postgresCpuMs > 0 ? ms(capstan.postgresCpuMs / n, 1) : 'n/a'}; ` +
      (Number.isFinite(capstan.machineBusy)
        ? `other processes (Redis, kernel, anything else running) ${ms(capstan.otherCpuMs / n, 1)}; machine ${(capstan.machineBusy * 100).toFixed(0)}% busy during the run`
        : 'machine load n/a'),
  );

  if (capstan.calls) {
    const { workers, here } = capstan.calls;
    console.log(`  round trips per operation, workers: Postgres ${perOperation(workers.postgres.all, n)}; Redis ${perOperation(workers.redis, n)}`);
    console.log(`  round trips per operation, API: Postgres ${perOperation(here.postgres.api, n)}; Redis ${perOperation(here.redis, n)}`);
    console.log(`  round trips per operation, simulated cloud: Postgres ${perOperation(here.postgres.simulator, n)}`);
  }

  // Correctness: every operation succeeded, every external cluster created exactly once.
  const once = capstan.clusterIds.filter((id) => capstan.creates.get(externalClusterName(id)) === 1).length;
  const statuses = new Map<string, number>();
  for (const r of capstan.rows) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  const ok = succeeded.length === n && once === n && baseline.exactlyOnce === n;
  console.log(
    `  check: ${succeeded.length}/${n} operations succeeded` +
      (succeeded.length === n
        ? ''
        : ` (${[...statuses].map(([s, c]) => `${c} ${s}`).join(', ')}${capstan.refused.length ? `, ${capstan.refused.length} creates refused` : ''})`) +
      `; the simulated cloud created ${once}/${n} clusters exactly once; baseline: ${baseline.exactlyOnce}/${n} operations succeeded, each run once — ${ok ? 'OK' : 'FAILED'}`,
  );
  for (const refusal of capstan.refused.slice(0, 3)) console.log(`  WARNING create refused: ${refusal}`);
  return ok;
}

async function main(): Promise<void> {
  const started = Date.now();
  const db = await createScratchDatabase();
  const redisPrefix = `capstan-bench-${randomBytes(4).toString('hex')}`;
  const own: Owned = { children: [] };
  let cleaned: Promise<unknown> | undefined;
  const cleanUp = () =>
    (cleaned ??= (async () => {
      const interrupted = abort.signal.aborted;
      abort.abort();
      for (const child of own.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      // Bounded: with creates in flight the API does not close (its Prisma disconnect waits for
      // them; seen on Ctrl-C); the database is dropped WITH (FORCE) and this process exits anyway.
      await settleWithin(own.stack?.stop(), interrupted ? 5_000 : 15_000);
      await Promise.allSettled([db.drop(), cleanRedis(redisPrefix)]);
    })());
  // Ctrl-C or SIGTERM still removes the scratch database, the Redis keys and the worker processes
  // (the baseline's workers exit by themselves when this process goes: they watch their IPC channel).
  const signals = [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const;
  const handlers = new Map(
    signals.map(([signal, code]) => [
      signal,
      () => {
        console.error(`operations: ${signal}, cleaning up`);
        abort.abort();
        void cleanUp().finally(() => process.exit(code));
      },
    ]),
  );
  for (const [signal, handler] of handlers) process.once(signal, handler);
  // The in-process API registers Nest's shutdown hooks, which would close it next to cleanUp()
  // and then re-raise the signal, ending this process before the database is dropped: this
  // process's signals are the bench's.
  own.afterStart = () => {
    for (const [signal, handler] of handlers) for (const l of process.listeners(signal)) if (l !== handler) process.removeListener(signal, l);
  };
  let ok = false;
  try {
    // The workers' default WORKER_CONCURRENCY, which the Capstan workers run with.
    const concurrency = defaultOf('WORKER_CONCURRENCY');
    console.log(
      `operations: ${OPERATIONS} cluster creates through POST /v1/clusters (${IN_FLIGHT} in flight, simulated cloud with 0 ms steps) run by ${WORKERS} worker processes, ` +
        `vs the same creates hand-written with plain pg and BullMQ (same commits, same cloud calls) on ${WORKERS} worker processes; ` +
        `both ${concurrency} jobs at a time per worker; ${WARMUP} warm-up creates first; scratch database ${db.name}`,
    );
    const { capstan, baseline } = await runCapstan(db, redisPrefix, concurrency, own);
    console.log('');
    ok = report(capstan, baseline);
    console.log(`operations: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await cleanUp();
  }
  process.exit(ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
