/**
 * Issues 2, 3 and 8, the whole request path: the real API (NestJS on Fastify, Kysely, Redis rate
 * limit; `createApi`) against a bare Fastify 5 + `pg` server serving the same routes with
 * hand-written SQL and the same JSON (bench/support/bare-server.ts), under the same autocannon
 * load, side by side in one run. Each server runs in a child process of its own; the load
 * generator runs here. Ratios are full / bare; goals are printed, never enforced.
 */
import { DatabaseConfig, DatabasePool, PrismaService } from '@capstan/platform';
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { clusterRequest, seedOrganization } from '../libs/testing/src/fixtures';
import { numberSetting, REDIS_URL } from './support/environment';
import { cleanRedis } from './support/redis';
import { createScratchDatabase } from './support/scratch-database';
import { HUGE_QUOTA, seedTenant } from './support/seed';
import { type RunningServer, type ServerKind, type ServerOptions, startServer } from './support/servers';
import { goal, int, ms, percentile, printTable, ratio, sortedCopy } from './support/stats';

const SECONDS = numberSetting('BENCH_SECONDS', 4);
/**
 * Rounds per case, alternating which server goes first: one 8 s measurement per server swung by
 * up to 40% from run to run on the 2-core machine (the bare server's own CPU per request too), so
 * each figure is the median of the rounds, and each ratio the median of the rounds' paired ratios.
 */
const ROUNDS = numberSetting('BENCH_ROUNDS', 5);
const WARMUP_SECONDS = numberSetting('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = numberSetting('BENCH_CONNECTIONS', 10);
/** Only the cases whose name contains one of these (comma-separated), e.g. `GET /v1/clusters/{id}` for a profile of one route. */
const CASES = (process.env.BENCH_HTTP_CASES ?? '')
  .split(',')
  .map((c) => c.trim())
  .filter(Boolean);
const CLUSTERS = 50;
const POOL_SIZE = 10;

interface HttpCase {
  name: string;
  /** Issue #8's goal for full / bare (req/s on a quiet machine; also shown against the CPU ratio). */
  goal?: { atLeast: number };
  /** The request for one server (writes go to an organisation of that server's own). */
  request(kind: ServerKind): autocannon.Request;
}

interface LoadResult {
  rps: number;
  /** Server CPU (user + system) per answered request, µs: what a request costs, however loaded the machine is. */
  cpuPerRequest: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** Runs autocannon for `seconds`; latencies of 2xx answers are kept exactly (autocannon's own histogram has 1 ms steps). */
async function load(server: RunningServer, request: autocannon.Request, seconds: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let answered = 0;
  const cpuBefore = await server.cpuMicros();
  const instance = autocannon({ url: server.url, connections: CONNECTIONS, duration: seconds, timeout: 30, requests: [request] });
  instance.on('response', (_client: unknown, status: number, _bytes: number, time: number) => {
    answered++;
    if (status >= 200 && status < 300) latencies.push(time);
  });
  const result = await instance;
  const cpu = (await server.cpuMicros()) - cpuBefore;
  const sorted = sortedCopy(latencies);
  return {
    rps: latencies.length / result.duration,
    cpuPerRequest: cpu / Math.max(1, answered),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** The first path at which two JSON values differ (`shapeOnly`: types and keys, not values). */
function firstDifference(a: unknown, b: unknown, shapeOnly: boolean, path = '$'): string | undefined {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return path;
    if (a.length !== b.length) return `${path} (length ${a.length} vs ${b.length})`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], shapeOnly, `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) return `${path} (keys ${ka.join(',')} vs ${kb.join(',')})`;
    for (const k of ka) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], shapeOnly, `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  if (a === null || b === null) return a === b || shapeOnly ? undefined : path;
  if (typeof a !== typeof b) return path;
  return shapeOnly || a === b ? undefined : `${path} (${JSON.stringify(a)} vs ${JSON.stringify(b)})`;
}

async function send(url: string, request: autocannon.Request): Promise<{ status: number; body: unknown }> {
  const prepared = request.setupRequest ? request.setupRequest({ ...request }, {}) : request;
  const response = await fetch(url + prepared.path, { method: prepared.method, headers: prepared.headers, body: prepared.body });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/**
 * Before any load: every case answers 2xx on both servers, GETs with the same JSON and the create
 * with the same shape (its ids and times differ). A server that fails a case stops the bench.
 */
async function checkParity(servers: Record<ServerKind, RunningServer>, cases: HttpCase[]): Promise<string[]> {
  const notes: string[] = [];
  for (const c of cases) {
    const [full, bare] = await Promise.all([send(servers.full.url, c.request('full')), send(servers.bare.url, c.request('bare'))]);
    for (const [kind, answer] of [
      ['full', full],
      ['bare', bare],
    ] as const) {
      if (answer.status < 200 || answer.status >= 300)
        throw new Error(`${kind} server answered ${c.name} with ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    const difference = firstDifference(full.body, bare.body, c.request('full').method === 'POST');
    if (full.status !== bare.status || difference)
      notes.push(`${c.name}: full ${full.status} vs bare ${bare.status}${difference ? `, bodies differ at ${difference}` : ''}`);
  }
  return notes;
}

async function main(): Promise<void> {
  const started = Date.now();
  const db = await createScratchDatabase();
  const redisPrefix = `capstan-bench-${randomBytes(4).toString('hex')}`;
  const running: RunningServer[] = [];
  let cleaned: Promise<unknown> | undefined;
  const cleanUp = () =>
    (cleaned ??= (async () => {
      await Promise.allSettled(running.map((s) => s.stop()));
      await Promise.allSettled([db.drop(), cleanRedis(redisPrefix)]);
    })());
  // Ctrl-C still removes the scratch database and the Redis keys.
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  try {
    const prisma = new PrismaService(new DatabasePool(new DatabaseConfig(db.url, 2)));
    const tenant = await seedTenant(prisma, CLUSTERS);
    // Creates go to an organisation per server, so each starts from the same empty state.
    const writers = { full: await seedOrganization(prisma, HUGE_QUOTA), bare: await seedOrganization(prisma, HUGE_QUOTA) };
    await prisma.$disconnect();

    const options: ServerOptions = {
      databaseUrl: db.url,
      redisUrl: REDIS_URL,
      redisPrefix,
      secretsKeys: `bench:${randomBytes(32).toString('base64')}`,
      poolSize: POOL_SIZE,
      // The config allows at most 1,000,000 a minute; far above what two cores can serve.
      rateLimitPerMinute: 1_000_000,
    };
    const servers = { full: await startServer('full', options), bare: await startServer('bare', options) };
    running.push(servers.full, servers.bare);

    const read = (path: string) => () => ({ method: 'GET', path, headers: { authorization: `Bearer ${tenant.token}` } });
    const names = { full: 0, bare: 0 };
    const allCases: HttpCase[] = [
      { name: 'GET /healthz', request: () => ({ method: 'GET', path: '/healthz' }) },
      { name: 'GET /v1/clusters?limit=20', goal: { atLeast: 0.88 }, request: read('/v1/clusters?limit=20') },
      { name: 'GET /v1/clusters/{id}', goal: { atLeast: 0.91 }, request: read(`/v1/clusters/${tenant.clusterWithWindowId}`) },
      {
        name: 'POST /v1/clusters',
        goal: { atLeast: 0.76 },
        request: (kind) => ({
          method: 'POST',
          path: '/v1/clusters',
          headers: { authorization: `Bearer ${writers[kind].token}`, 'content-type': 'application/json' },
          setupRequest: (req) => ({ ...req, body: JSON.stringify(clusterRequest({ name: `b-${++names[kind]}` })) }),
        }),
      },
    ];
    const cases = CASES.length === 0 ? allCases : allCases.filter((c) => CASES.some((wanted) => c.name.includes(wanted)));

    console.log(
      `http: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${ROUNDS} rounds of ${SECONDS} s measured per case and server (medians); ` +
        `full = the API (createApi), bare = Fastify + pg baseline, each in a child process; load from this process; ${CLUSTERS} clusters seeded; scratch database ${db.name}`,
    );
    const parity = await checkParity(servers, cases);
    console.log(
      parity.length === 0 ? '  parity: both servers answer every case alike (GET bodies equal, create bodies of equal shape)' : '  parity: DIFFERENCES',
    );
    for (const note of parity) console.log(`    ${note}`);

    const rows: string[][] = [];
    const problems: string[] = [];
    for (const [i, c] of cases.entries()) {
      const rounds: Record<ServerKind, LoadResult>[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const results = {} as Record<ServerKind, LoadResult>;
        // Alternate which server goes first, so slow drift (e.g. a growing table) does not favour one.
        for (const kind of ((i + round) % 2 === 0 ? ['full', 'bare'] : ['bare', 'full']) as ServerKind[]) {
          if (round === 0) await load(servers[kind], c.request(kind), WARMUP_SECONDS);
          results[kind] = await load(servers[kind], c.request(kind), SECONDS);
          const r = results[kind];
          if (r.non2xx > 0 || r.errors > 0) problems.push(`${c.name} on ${kind}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
        }
        rounds.push(results);
      }
      const median = (values: number[]) => percentile(sortedCopy(values), 0.5);
      const medianOf = (kind: ServerKind): LoadResult => ({
        rps: median(rounds.map((r) => r[kind].rps)),
        cpuPerRequest: median(rounds.map((r) => r[kind].cpuPerRequest)),
        p50: median(rounds.map((r) => r[kind].p50)),
        p99: median(rounds.map((r) => r[kind].p99)),
        non2xx: 0,
        errors: 0,
      });
      const full = medianOf('full');
      const bare = medianOf('bare');
      const rpsRatio = median(rounds.map((r) => r.full.rps / r.bare.rps));
      const p99Ratio = median(rounds.map((r) => r.full.p99 / r.bare.p99));
      const cpuRatio = median(rounds.map((r) => r.bare.cpuPerRequest / r.full.cpuPerRequest));
      rows.push([
        c.name,
        int(full.rps),
        int(bare.rps),
        ratio(rpsRatio),
        goal(rpsRatio, c.goal),
        ms(full.p99),
        ms(bare.p99),
        ratio(p99Ratio),
        ms(full.cpuPerRequest / 1000, 3),
        ms(bare.cpuPerRequest / 1000, 3),
        ratio(cpuRatio),
        goal(cpuRatio, c.goal),
      ]);
    }
    console.log('');
    printTable(
      [
        'case',
        '>full req/s',
        '>bare req/s',
        '>req/s ratio',
        'goal',
        '>full p99 ms',
        '>bare p99 ms',
        '>p99 ratio',
        '>full CPU ms/req',
        '>bare CPU ms/req',
        '>CPU ratio',
        'CPU goal',
      ],
      rows,
    );
    console.log(
      '  req/s ratio = full / bare (higher is better); p99 ratio = full / bare (lower is better); goals are reported, never enforced;\n' +
        '  CPU ms/req = the server process CPU (user + system) per request; CPU ratio = bare / full (what the req/s ratio is on a machine with a core free per server);\n' +
        "  goals are issue #8's (req/s on a quiet machine); on a shared machine the CPU goal, against the CPU ratio, is the steadier reading",
    );
    for (const p of problems) console.log(`  WARNING ${p}`);
    console.log(`http: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
