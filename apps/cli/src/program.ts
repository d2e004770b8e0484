import { type CapstanClient, type components, createCapstanClient } from '@capstan/sdk';
import { Command, CommanderError, Option } from 'commander';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { configPath, readConfig, resolveContext, writeConfig } from './config';
import { CliError, EXIT, problemError } from './errors';
import { type Column, type OutputFormat, outputFormat, print, printOne } from './output';
import { assertSucceeded, watchOperation } from './progress';

type Schemas = components['schemas'];
type Cluster = Schemas['Cluster'];
type NodePool = Schemas['NodePool'];
type MaintenanceExclusion = Schemas['MaintenanceExclusion'];
type Operation = Schemas['Operation'];
type NodePoolSpec = Schemas['NodePoolSpec'];
type Backup = Schemas['Backup'];
type BackupSchedule = Schemas['BackupSchedule'];
type ClusterAddon = Schemas['ClusterAddon'];

interface Globals {
  context?: string;
  output: OutputFormat;
}

/** What openapi-fetch resolves to: the typed body of a 2xx, or the problem of anything else. */
interface ApiResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a 2xx answer; otherwise the problem's title and detail as a CliError (exit code by status). */
async function call<T>(request: Promise<ApiResult<T>>): Promise<T> {
  let result: ApiResult<T>;
  try {
    result = await request;
  } catch (error) {
    throw new CliError(`cannot reach the API: ${networkReason(error)}`, EXIT.unreachable);
  }
  if (result.response.ok) return result.data as T;
  throw problemError(result.response.status, result.error as Parameters<typeof problemError>[1]);
}

/** fetch says only "fetch failed": the reason (ECONNREFUSED, ENOTFOUND, ...) is in its cause, or the cause's errors. */
function networkReason(error: unknown): string {
  type Failure = { code?: string; message?: string; cause?: Failure; errors?: Failure[] };
  const failure = error as Failure;
  const cause = failure.cause;
  return cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? failure.message ?? String(error);
}

const clusterColumns: Column<Cluster>[] = [
  ['ID', (c) => c.id],
  ['NAME', (c) => c.name],
  ['PROVIDER', (c) => c.provider],
  ['REGION', (c) => c.region],
  ['VERSION', (c) => c.current_version],
  ['STATUS', (c) => c.status],
  ['NODES', (c) => c.node_pools.reduce((n, p) => n + p.count, 0)],
];
const poolColumns: Column<NodePool>[] = [
  ['ID', (p) => p.id],
  ['NAME', (p) => p.name],
  ['MACHINE TYPE', (p) => p.machine_type],
  ['COUNT', (p) => p.count],
  ['VERSION', (p) => p.version],
  ['STATUS', (p) => p.status],
];
const operationColumns: Column<Operation>[] = [
  ['ID', (o) => o.id],
  ['TYPE', (o) => o.type],
  ['STATUS', (o) => o.status],
  ['PROGRESS', (o) => `${o.progress}%`],
  ['CLUSTER', (o) => o.cluster_id],
  ['CREATED', (o) => o.created_at],
];
const stepColumns: Column<Operation['steps'][number]>[] = [
  ['STEP', (s) => s.name],
  ['STATUS', (s) => s.status],
  ['ATTEMPTS', (s) => s.attempts],
  ['STARTED', (s) => s.started_at],
  ['FINISHED', (s) => s.finished_at],
  ['ERROR', (s) => stepError(s)],
];

/** A step's error; on a step that went on to succeed it is an earlier attempt's, and says so. */
export function stepError(step: Pick<Operation['steps'][number], 'status' | 'error'>): string | undefined {
  const message = (step.error as { message?: string } | null | undefined)?.message;
  if (!message) return undefined;
  return step.status === 'succeeded' ? `retried after: ${message}` : message;
}

const backupColumns: Column<Backup>[] = [
  ['ID', (b) => b.id],
  ['KIND', (b) => b.kind],
  ['PURPOSE', (b) => b.purpose],
  ['STATE', (b) => b.state],
  ['VERSION', (b) => b.cluster_version],
  ['SIZE', (b) => b.size_bytes],
  ['FINISHED', (b) => b.finished_at],
  ['EXPIRES', (b) => b.expires_at],
  ['ERROR', (b) => b.error?.message],
];
const exclusionColumns: Column<MaintenanceExclusion>[] = [
  ['ID', (e) => e.id],
  ['NAME', (e) => e.name],
  ['SCOPE', (e) => e.scope],
  ['STARTS', (e) => e.starts_at],
  ['ENDS', (e) => e.ends_at],
  ['OVERRIDES', (e) => e.overrides.map((o) => `${o.at} ${o.advisory_id ?? ''}`.trim()).join('; ')],
];
const scheduleColumns: Column<BackupSchedule>[] = [
  ['ID', (s) => s.id],
  ['NAME', (s) => s.name],
  ['KIND', (s) => s.kind],
  ['CRON', (s) => s.cron],
  ['TIME ZONE', (s) => s.time_zone],
  ['RETENTION', (s) => (s.retention.count !== null ? `${s.retention.count} backups` : `${s.retention.days} days`)],
  ['PAUSED', (s) => s.paused],
  ['NEXT RUN', (s) => s.next_run_at],
];
const addonColumns: Column<ClusterAddon>[] = [
  ['NAME', (a) => a.name],
  ['TIER', (a) => a.tier],
  ['ENABLED', (a) => a.enabled],
  ['DESIRED', (a) => a.desired_version],
  ['INSTALLED', (a) => a.installed_version],
  ['STATUS', (a) => a.status],
];

/** `--set key=value` (repeatable) as add-on settings: true/false as booleans, whole numbers as numbers. */
export function parseSettings(values: string[]): Record<string, string | number | boolean> {
  return Object.fromEntries(
    values.map((v) => {
      const at = v.indexOf('=');
      if (at < 1) throw new CliError(`--set: expected key=value, got "${v}"`, EXIT.usage);
      const raw = v.slice(at + 1);
      const value = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+$/.test(raw) ? Number(raw) : raw;
      return [v.slice(0, at), value];
    }),
  );
}

const NODE_POOL_INTEGERS = new Set(['count', 'max_surge', 'max_unavailable']);

/** `name=default,machine-type=nine-standard-4,count=3[,min=1,max=5]` as a NodePoolSpec. */
export function parseNodePool(value: string): NodePoolSpec {
  const spec: Record<string, unknown> = {};
  for (const pair of value.split(',')) {
    const [rawKey, ...rest] = pair.split('=');
    const key = rawKey!.trim().replace(/-/g, '_');
    const raw = rest.join('=').trim();
    if (!key || rest.length === 0) throw new CliError(`--node-pool: expected key=value, got "${pair}"`, EXIT.usage);
    if (NODE_POOL_INTEGERS.has(key) || key === 'min' || key === 'max') {
      if (!/^\d+$/.test(raw)) throw new CliError(`--node-pool: ${rawKey} must be a whole number, got "${raw}"`, EXIT.usage);
      if (key === 'min' || key === 'max') spec.autoscaling = { ...(spec.autoscaling as object), [key]: Number(raw) };
      else spec[key] = Number(raw);
    } else if (key === 'name' || key === 'machine_type') {
      spec[key] = raw;
    } else {
      throw new CliError(`--node-pool: unknown key ${rawKey} (name, machine-type, count, min, max, max-surge, max-unavailable)`, EXIT.usage);
    }
  }
  if (!spec.name || !spec.machine_type) throw new CliError('--node-pool needs at least name= and machine-type=', EXIT.usage);
  return spec as unknown as NodePoolSpec;
}

/** `key=value` pairs (repeatable) as an object. */
function parseLabels(values: string[]): Record<string, string> {
  return Object.fromEntries(
    values.map((v) => {
      const at = v.indexOf('=');
      if (at < 1) throw new CliError(`--label: expected key=value, got "${v}"`, EXIT.usage);
      return [v.slice(0, at), v.slice(at + 1)];
    }),
  );
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positiveSeconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new CliError(`expected a number of seconds, got "${value}"`, EXIT.usage);
  return Number(value) * 1000;
}

/** `--interval`: seconds, fractions allowed, at least 0.2 (NaN would poll as fast as the event loop). */
function intervalSeconds(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new CliError(`--interval: expected a number of seconds, got "${value}"`, EXIT.usage);
  return Math.max(200, Number(value) * 1000);
}

/**
 * `--since`/`--until`: an RFC 3339 instant, or a time ago (`90m`, `24h`, `7d`), as on-call staff
 * think of "yesterday"; anything else is a usage error here rather than a 400 from the API.
 */
export function instantOption(option: string, now: () => Date = () => new Date()): (value: string) => string {
  return (value) => {
    const ago = /^(\d+)([mhd])$/.exec(value);
    if (ago) {
      const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 'm' | 'h' | 'd'];
      return new Date(now().getTime() - Number(ago[1]) * unitMs).toISOString();
    }
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value))) {
      return new Date(value).toISOString();
    }
    throw new CliError(`${option}: expected an RFC 3339 instant (2026-12-05T08:00:00Z) or a time ago (90m, 24h, 7d), got "${value}"`, EXIT.usage);
  };
}

/** A whole-number option (`--count`, `--limit`, ...): anything else is a usage error here, not `null` sent to the API. */
export function wholeNumber(option: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new CliError(`${option}: expected a whole number, got "${value}"`, EXIT.usage);
    return Number(value);
  };
}

type Provider = Schemas['Cluster']['provider'];
/** `--provider` on the catalogue lists: a name the API does not know is a usage error here (exit 2). */
const providerFilter = () => new Option('--provider <provider>', 'only this provider').choices(['rke2', 'gke'] satisfies Provider[]);

// Defaults kept in ms; help shows them in seconds, the unit the options take.
const waitTimeout = (description: string) => new Option('--timeout <seconds>', description).argParser(positiveSeconds).default(1_800_000, '1800');
const waitInterval = (description: string) => new Option('--interval <seconds>', description).argParser(intervalSeconds).default(1000, '1');

export interface RunOptions {
  /** The environment (CAPSTAN_URL, CAPSTAN_TOKEN, XDG_CONFIG_HOME, KUBECONFIG): main.ts passes the process's. */
  env: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

export function buildProgram(options: RunOptions): Command {
  const env = options.env;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const program = new Command('capstan')
    .description('Managed Kubernetes from the command line (docs/cli.md)')
    // No .version(): commander would take `--version` anywhere on the line as its own, so
    // `clusters create --version 1.35` printed the CLI's version and created nothing. `run` answers
    // `capstan --version` alone.
    .option('--context <name>', 'the config file context to use (CAPSTAN_URL/CAPSTAN_TOKEN win over it)')
    .addHelpText('after', '\nOn its own, -V or --version prints the CLI version.')
    .addOption(new Option('-o, --output <format>', 'table, json or yaml').default('table').argParser(outputFormat))
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) });

  const globals = (): Globals => program.opts<Globals>();
  const client = (): CapstanClient => {
    const context = resolveContext(globals().context, env);
    return createCapstanClient({ baseUrl: context.url, token: context.token, idempotencyKeys: true });
  };
  const out = <T>(data: unknown, rows: T[], columns: Column<T>[]) => print(globals().output, data, rows, columns, stdout);
  const outOne = (data: object) => printOne(globals().output, data as Record<string, unknown>, stdout);
  /**
   * A page of a list that takes `--cursor`: in a table, a further page is announced on stderr (a
   * table of 20 rows must not read as the whole fleet); -o json and yaml carry `next_cursor`.
   */
  const outPage = <T>(page: { items: unknown[]; next_cursor: string | null }, columns: Column<T>[]) => {
    out(page, page.items as T[], columns);
    if (globals().output === 'table' && page.next_cursor) stderr.write(`more: run again with --cursor ${page.next_cursor}\n`);
  };
  const pageOptions = (command: Command) =>
    command
      .option('--limit <n>', 'page size (1-100, default 20)', wholeNumber('--limit'))
      .option('--cursor <cursor>', 'the next page, as the last one printed');
  const waitOptions = (command: Command) =>
    command
      .option('--wait', 'follow the operation until it finishes (exit 5 if it fails)')
      .addOption(waitTimeout('with --wait: give up after this long (exit 6)'))
      .addOption(waitInterval('with --wait: how often to ask'));
  // A finished operation: as `operations get` shows it in a table (its steps as rows), whole otherwise.
  const outOperation = (operation: Operation) => {
    if (globals().output !== 'table') return outOne(operation);
    print('table', operation, [operation], operationColumns, stdout);
    print('table', operation.steps, operation.steps, stepColumns, stdout);
  };
  const follow = async (api: CapstanClient, operation: Operation, opts: { timeout: number; interval: number }) => {
    const finished = await watchOperation(api, operation.id, { intervalMs: opts.interval, timeoutMs: opts.timeout, stream: stderr });
    return finished;
  };

  // ---- login and contexts ------------------------------------------------------------------
  program
    .command('login')
    .description('check a token against an API and save both as a context in the config file')
    .requiredOption('--url <url>', 'the API root, e.g. https://capstan.example.com')
    .option('--token <token>', 'a customer (cap_...) or staff (capstaff_...) token; default CAPSTAN_TOKEN')
    .option('--name <context>', 'the context name', 'default')
    .action(async (opts: { url: string; token?: string; name: string }) => {
      const token = opts.token ?? env.CAPSTAN_TOKEN;
      if (!token) throw new CliError('login needs --token or CAPSTAN_TOKEN', EXIT.usage);
      const url = opts.url.replace(/\/+$/, '');
      const api = createCapstanClient({ baseUrl: url, token });
      // A staff token has no organisation: try the staff surface when the customer one says 403.
      const org = await api.GET('/v1/organization').catch((error: Error) => {
        throw new CliError(`cannot reach ${url}: ${networkReason(error)}`, EXIT.unreachable);
      });
      let who: string;
      if (org.data) who = `organisation ${org.data.name}`;
      else {
        await call(api.GET('/admin/v1/organizations', { params: { query: { limit: 1 } } }));
        who = 'staff';
      }
      const config = readConfig(configPath(env));
      config.contexts[opts.name] = { url, token };
      config.current = opts.name;
      writeConfig(config, configPath(env));
      stderr.write(`logged in to ${url} as ${who}; context ${opts.name} saved in ${configPath(env)}\n`);
    });

  const contexts = program.command('contexts').description('the API endpoints and tokens in the config file');
  contexts.command('list').action(() => {
    const config = readConfig(configPath(env));
    const rows = Object.entries(config.contexts).map(([name, c]) => ({ name, url: c.url, current: name === config.current }));
    out(rows, rows, [
      ['CURRENT', (r) => (r.current ? '*' : '')],
      ['NAME', (r) => r.name],
      ['URL', (r) => r.url],
    ]);
  });
  contexts.command('use <name>').action((name: string) => {
    const config = readConfig(configPath(env));
    if (!config.contexts[name]) throw new CliError(`no context named ${name}`, EXIT.usage);
    config.current = name;
    writeConfig(config, configPath(env));
  });
  contexts.command('delete <name>').action((name: string) => {
    const config = readConfig(configPath(env));
    if (!config.contexts[name]) throw new CliError(`no context named ${name}`, EXIT.usage);
    delete config.contexts[name];
    if (config.current === name) delete config.current;
    writeConfig(config, configPath(env));
  });

  // ---- clusters ----------------------------------------------------------------------------
  const clusters = program.command('clusters').description('your clusters');
  waitOptions(
    clusters
      .command('create <name>')
      .description('create a cluster (202: an operation runs it; --wait follows it)')
      .requiredOption('--provider <provider>', 'rke2 or gke')
      .requiredOption('--region <region>', 'see: capstan regions')
      .requiredOption('--node-pool <spec>', 'name=...,machine-type=...,count=N[,min=N,max=N] (repeatable)', (v, prev: NodePoolSpec[] = []) => [
        ...prev,
        parseNodePool(v),
      ])
      .option('--version <version>', 'Kubernetes version (default: the channel default)')
      .option('--release-channel <channel>', 'rapid, regular or stable')
      .option('--label <key=value>', 'a label (repeatable)', collect)
      .option('--deletion-protection', 'refuse deletes until turned off'),
  ).action(
    async (
      name: string,
      opts: {
        provider: string;
        region: string;
        nodePool: NodePoolSpec[];
        version?: string;
        releaseChannel?: string;
        label?: string[];
        deletionProtection?: boolean;
        wait?: boolean;
        timeout: number;
        interval: number;
      },
    ) => {
      const api = client();
      const body: Schemas['CreateClusterRequest'] = {
        name,
        provider: opts.provider as Schemas['CreateClusterRequest']['provider'],
        region: opts.region,
        node_pools: opts.nodePool,
        ...(opts.version ? { version: opts.version } : {}),
        ...(opts.releaseChannel ? { release_channel: opts.releaseChannel as Schemas['CreateClusterRequest']['release_channel'] } : {}),
        ...(opts.label ? { labels: parseLabels(opts.label) } : {}),
        ...(opts.deletionProtection ? { deletion_protection: true } : {}),
      };
      const created = await call(api.POST('/v1/clusters', { body }));
      if (!opts.wait) return outOne(created);
      stderr.write(`creating cluster ${created.cluster.name} (${created.cluster.id}), operation ${created.operation.id}\n`);
      const operation = await follow(api, created.operation, opts);
      const cluster = await call(api.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: created.cluster.id } } }));
      assertSucceeded(operation);
      if (globals().output !== 'table') return outOne({ cluster, operation });
      // The steps were printed as they ran: the table shows the cluster as `clusters get` does.
      print('table', cluster, [cluster], clusterColumns, stdout);
      print('table', cluster.node_pools, cluster.node_pools, poolColumns, stdout);
    },
  );
  clusters
    .command('list')
    .option('--status <status>')
    .option('--provider <provider>')
    .option('-l, --selector <selector>', 'label selector, e.g. env=prod')
    .option('--limit <n>', 'page size', wholeNumber('--limit'))
    .action(async (opts: { status?: string; provider?: string; selector?: string; limit?: number }) => {
      const query = { status: opts.status, provider: opts.provider, label_selector: opts.selector, limit: opts.limit } as never;
      const page = await call(client().GET('/v1/clusters', { params: { query } }));
      out(page, page.items, clusterColumns);
    });
  clusters.command('get <cluster-id>').action(async (id: string) => {
    const cluster = await call(client().GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: id } } }));
    if (globals().output === 'table') {
      print('table', cluster, [cluster], clusterColumns, stdout);
      print('table', cluster.node_pools, cluster.node_pools, poolColumns, stdout);
    } else outOne(cluster);
  });
  waitOptions(
    clusters
      .command('update <cluster-id>')
      .description(
        'change labels, auto-upgrade, deletion protection or release channel (reads the ETag first); on GKE, channel and labels are applied by an operation',
      )
      .option('--label <key=value>', 'replace the labels with these (repeatable)', collect)
      .option('--auto-upgrade <bool>', 'true or false', (v) => v === 'true')
      .option('--deletion-protection <bool>', 'true or false', (v) => v === 'true')
      .option('--release-channel <channel>'),
  ).action(
    async (
      id: string,
      opts: {
        label?: string[];
        autoUpgrade?: boolean;
        deletionProtection?: boolean;
        releaseChannel?: string;
        wait?: boolean;
        timeout: number;
        interval: number;
      },
    ) => {
      const api = client();
      const current = await call(api.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: id } } }));
      const body: Schemas['UpdateClusterRequest'] = {
        ...(opts.label ? { labels: parseLabels(opts.label) } : {}),
        ...(opts.autoUpgrade !== undefined ? { auto_upgrade: opts.autoUpgrade } : {}),
        ...(opts.deletionProtection !== undefined ? { deletion_protection: opts.deletionProtection } : {}),
        ...(opts.releaseChannel ? { release_channel: opts.releaseChannel as Schemas['UpdateClusterRequest']['release_channel'] } : {}),
      };
      const updated = await call(api.PATCH('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: id }, header: { 'If-Match': current.etag } }, body }));
      // 202: the provider applies the change (a GKE cluster's channel or labels) through an operation.
      if (!('operation' in updated) || !opts.wait) return outOne(updated);
      const operation = await follow(api, updated.operation, opts);
      assertSucceeded(operation);
      outOne(operation);
    },
  );
  waitOptions(clusters.command('delete <cluster-id>')).action(async (id: string, opts: { wait?: boolean; timeout: number; interval: number }) => {
    const api = client();
    const accepted = await call(api.DELETE('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: id } } }));
    if (!opts.wait) return outOne(accepted);
    const operation = await follow(api, accepted.operation, opts);
    assertSucceeded(operation);
    outOperation(operation);
  });

  waitOptions(
    clusters
      .command('upgrade <cluster-id>')
      .description('upgrade to a catalogue version, one minor at a time (see: clusters upgrade-plan)')
      .requiredOption('--version <version>', 'a minor ("1.36") or its latest patch')
      .option('--next-window', "start in the cluster's next maintenance window instead of now"),
  ).action(async (id: string, opts: { version: string; nextWindow?: boolean; wait?: boolean; timeout: number; interval: number }) => {
    const api = client();
    const body = { version: opts.version, start: opts.nextWindow ? ('next_window' as const) : ('now' as const) };
    const accepted = await call(api.POST('/v1/clusters/{cluster_id}/upgrade', { params: { path: { cluster_id: id } }, body }));
    if (!opts.wait) return outOne(accepted);
    const operation = await follow(api, accepted.operation, opts);
    assertSucceeded(operation);
    outOperation(operation);
  });
  clusters
    .command('upgrade-plan <cluster-id>')
    .description('the steps an upgrade would take and what blocks it')
    .option('--version <version>', 'target (default: the version new clusters get)')
    .action(async (id: string, opts: { version?: string }) => {
      const query = opts.version ? { version: opts.version } : {};
      const plan = await call(client().GET('/v1/clusters/{cluster_id}/upgrade-plan', { params: { path: { cluster_id: id }, query } }));
      if (globals().output !== 'table') return outOne(plan);
      stdout.write(`${plan.from} -> ${plan.to}: ${plan.runnable ? 'runnable' : 'blocked'}\n`);
      const steps = plan.hops.flatMap((hop) => hop.steps.map((step) => ({ hop: `${hop.from} -> ${hop.to}`, step })));
      print(
        'table',
        steps,
        steps,
        [
          ['HOP', (r) => r.hop],
          ['STEP', (r) => r.step.kind],
          ['NODE POOL', (r) => r.step.node_pool?.name],
          ['FROM', (r) => r.step.from],
          ['TO', (r) => r.step.to],
        ],
        stdout,
      );
      if (plan.blockers.length > 0)
        print(
          'table',
          plan.blockers,
          plan.blockers,
          [
            ['BLOCKER', (b) => b.kind],
            ['REASON', (b) => b.reason],
          ],
          stdout,
        );
    });

  // ---- maintenance exclusions (docs/upgrades.md, "Maintenance exclusions") -----------------
  const exclusions = clusters
    .command('exclusions')
    .description("a cluster's maintenance exclusions: spans in which automatic upgrades of a scope do not start");
  exclusions.command('list <cluster-id>').action(async (clusterId: string) => {
    const list = await call(client().GET('/v1/clusters/{cluster_id}/maintenance-exclusions', { params: { path: { cluster_id: clusterId } } }));
    out(list, list.items, exclusionColumns);
  });
  waitOptions(
    exclusions
      .command('add <cluster-id> <name>')
      .description('on gke, an operation applies it at GKE (--wait follows it)')
      .requiredOption('--scope <scope>', 'no_upgrades, no_minor_upgrades or no_minor_or_node_upgrades')
      .requiredOption('--start <time>', 'RFC 3339, e.g. 2026-11-27T00:00:00Z')
      .requiredOption('--end <time>', 'RFC 3339, after --start'),
  ).action(async (clusterId: string, name: string, opts: { scope: string; start: string; end: string; wait?: boolean; timeout: number; interval: number }) => {
    const api = client();
    const body: Schemas['CreateMaintenanceExclusionRequest'] = {
      name,
      scope: opts.scope as Schemas['CreateMaintenanceExclusionRequest']['scope'],
      starts_at: opts.start,
      ends_at: opts.end,
    };
    const answer = await call(api.POST('/v1/clusters/{cluster_id}/maintenance-exclusions', { params: { path: { cluster_id: clusterId } }, body }));
    if (!('operation' in answer) || !opts.wait) return outOne(answer);
    assertSucceeded(await follow(api, answer.operation, opts));
    outOne(answer.maintenance_exclusion);
  });
  waitOptions(exclusions.command('delete <cluster-id> <exclusion-id>').description('on gke, an operation removes it at GKE (--wait follows it)')).action(
    async (clusterId: string, exclusionId: string, opts: { wait?: boolean; timeout: number; interval: number }) => {
      const api = client();
      const answer = await call(
        api.DELETE('/v1/clusters/{cluster_id}/maintenance-exclusions/{exclusion_id}', {
          params: { path: { cluster_id: clusterId, exclusion_id: exclusionId } },
        }),
      );
      if (!answer) return void stderr.write(`exclusion ${exclusionId} deleted\n`);
      if (!opts.wait) return outOne(answer);
      const operation = await follow(api, answer.operation, opts);
      assertSucceeded(operation);
      outOne(operation);
    },
  );

  // ---- node pools --------------------------------------------------------------------------
  const pools = program.command('node-pools').description("a cluster's node pools");
  pools.command('list <cluster-id>').action(async (clusterId: string) => {
    const page = await call(client().GET('/v1/clusters/{cluster_id}/node-pools', { params: { path: { cluster_id: clusterId } } }));
    out(page, page.items, poolColumns);
  });
  pools.command('get <cluster-id> <pool-id>').action(async (clusterId: string, poolId: string) => {
    outOne(
      await call(client().GET('/v1/clusters/{cluster_id}/node-pools/{node_pool_id}', { params: { path: { cluster_id: clusterId, node_pool_id: poolId } } })),
    );
  });
  waitOptions(pools.command('create <cluster-id> <spec>').description('spec: name=...,machine-type=...,count=N')).action(
    async (clusterId: string, spec: string, opts: { wait?: boolean; timeout: number; interval: number }) => {
      const api = client();
      const accepted = await call(api.POST('/v1/clusters/{cluster_id}/node-pools', { params: { path: { cluster_id: clusterId } }, body: parseNodePool(spec) }));
      if (!opts.wait) return outOne(accepted);
      const operation = await follow(api, accepted.operation, opts);
      assertSucceeded(operation);
      outOperation(operation);
    },
  );
  waitOptions(
    pools
      .command('update <cluster-id> <pool-id>')
      .description('scale or change a pool (reads the ETag first)')
      .option('--count <n>', 'nodes', wholeNumber('--count'))
      .option('--label <key=value>', 'replace the labels (repeatable)', collect),
  ).action(async (clusterId: string, poolId: string, opts: { count?: number; label?: string[]; wait?: boolean; timeout: number; interval: number }) => {
    const api = client();
    const path = { cluster_id: clusterId, node_pool_id: poolId };
    const current = await call(api.GET('/v1/clusters/{cluster_id}/node-pools/{node_pool_id}', { params: { path } }));
    const body: Schemas['UpdateNodePoolRequest'] = {
      ...(opts.count !== undefined ? { count: opts.count } : {}),
      ...(opts.label ? { labels: parseLabels(opts.label) } : {}),
    };
    const accepted = await call(
      api.PATCH('/v1/clusters/{cluster_id}/node-pools/{node_pool_id}', { params: { path, header: { 'If-Match': current.etag } }, body }),
    );
    if (!opts.wait) return outOne(accepted);
    const operation = await follow(api, accepted.operation, opts);
    assertSucceeded(operation);
    outOperation(operation);
  });
  waitOptions(pools.command('delete <cluster-id> <pool-id>')).action(
    async (clusterId: string, poolId: string, opts: { wait?: boolean; timeout: number; interval: number }) => {
      const api = client();
      const accepted = await call(
        api.DELETE('/v1/clusters/{cluster_id}/node-pools/{node_pool_id}', { params: { path: { cluster_id: clusterId, node_pool_id: poolId } } }),
      );
      if (!opts.wait) return outOne(accepted);
      const operation = await follow(api, accepted.operation, opts);
      assertSucceeded(operation);
      outOperation(operation);
    },
  );

  // ---- kubeconfig --------------------------------------------------------------------------
  program
    .command('kubeconfig')
    .description("a cluster's kubeconfig with a short-lived credential")
    .command('save <cluster-id>')
    .description("merge into ~/.kube/config (or $KUBECONFIG's first file) and switch to it, or write --file")
    .option('--file <path>', 'write this file (mode 600) instead of merging')
    .option('--expiry <seconds>', 'credential lifetime, 600 to 86400', '3600')
    .option('--no-switch', 'merge without changing current-context')
    .action(async (clusterId: string, opts: { file?: string; expiry: string; switch: boolean }) => {
      const expirySeconds = Number(opts.expiry);
      const text = await call(
        client().GET('/v1/clusters/{cluster_id}/kubeconfig', {
          params: { path: { cluster_id: clusterId }, query: { expiry_seconds: expirySeconds } },
          parseAs: 'text',
        }) as Promise<ApiResult<string>>,
      );
      const expires = new Date(Date.now() + expirySeconds * 1000).toISOString();
      const target = opts.file ?? (env.KUBECONFIG?.split(':')[0] || join(homedir(), '.kube', 'config'));
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      if (opts.file || !existsSync(target)) {
        writeFileSync(target, text, { mode: 0o600 });
      } else {
        writeFileSync(target, mergeKubeconfig(readFileSync(target, 'utf8'), text, opts.switch), { mode: 0o600 });
      }
      // `mode` applies only to a new file: an existing kubeconfig now holds a credential, so narrow it too.
      chmodSync(target, 0o600);
      stderr.write(`kubeconfig for ${clusterId} saved to ${target}; its credential expires at ${expires}\n`);
    });

  // ---- operations --------------------------------------------------------------------------
  const operations = program.command('operations').description('long-running work: creates, upgrades, deletes, scaling');
  operations
    .command('list')
    .option('--cluster <cluster-id>')
    .option('--status <status>')
    .option('--type <type>')
    .option('--limit <n>', 'page size', wholeNumber('--limit'))
    .action(async (opts: { cluster?: string; status?: string; type?: string; limit?: number }) => {
      const query = { cluster_id: opts.cluster, status: opts.status, type: opts.type, limit: opts.limit } as never;
      const page = await call(client().GET('/v1/operations', { params: { query } }));
      out(page, page.items, operationColumns);
    });
  operations.command('get <operation-id>').action(async (id: string) => {
    const operation = await call(client().GET('/v1/operations/{operation_id}', { params: { path: { operation_id: id } } }));
    outOperation(operation);
  });
  operations
    .command('watch <operation-id>')
    .description('follow an operation until it finishes (exit 5 if it fails)')
    .addOption(waitTimeout('give up after this long (exit 6)'))
    .addOption(waitInterval('how often to ask'))
    .action(async (id: string, opts: { timeout: number; interval: number }) => {
      const operation = await watchOperation(client(), id, { intervalMs: opts.interval, timeoutMs: opts.timeout, stream: stderr });
      assertSucceeded(operation);
      if (globals().output !== 'table') outOne(operation);
    });
  operations.command('cancel <operation-id>').action(async (id: string) => {
    outOne(await call(client().POST('/v1/operations/{operation_id}/cancel', { params: { path: { operation_id: id } } })));
  });
  operations
    .command('resume <operation-id>')
    .description('continue an operation that needs attention (e.g. after relaxing a PodDisruptionBudget)')
    .action(async (id: string) => {
      outOne(await call(client().POST('/v1/operations/{operation_id}/resume', { params: { path: { operation_id: id } } })));
    });
  operations
    .command('rollback <operation-id>')
    .description('roll the node pools of a failed or cancelled upgrade back; the control plane stays')
    .action(async (id: string) => {
      outOne((await call(client().POST('/v1/operations/{operation_id}/rollback', { params: { path: { operation_id: id } } }))).operation);
    });

  // ---- backups and restores ----------------------------------------------------------------
  const backups = program.command('backups').description("a cluster's backups, schedules and restores (docs/backups.md)");
  backups
    .command('list <cluster-id>')
    .option('--state <state>', 'pending, running, succeeded, failed, expired or deleted')
    .option('--schedule <schedule-id>')
    .option('--limit <n>', 'page size', wholeNumber('--limit'))
    .action(async (clusterId: string, opts: { state?: string; schedule?: string; limit?: number }) => {
      const query = { state: opts.state, schedule_id: opts.schedule, limit: opts.limit } as never;
      const page = await call(client().GET('/v1/clusters/{cluster_id}/backups', { params: { path: { cluster_id: clusterId }, query } }));
      out(page, page.items, backupColumns);
    });
  backups.command('get <cluster-id> <backup-id>').action(async (clusterId: string, backupId: string) => {
    outOne(await call(client().GET('/v1/clusters/{cluster_id}/backups/{backup_id}', { params: { path: { cluster_id: clusterId, backup_id: backupId } } })));
  });
  waitOptions(
    backups
      .command('create <cluster-id>')
      .description('take a backup now (an operation)')
      .option('--kind <kind>', 'etcd_snapshot (RKE2 default) or workload (GKE: the only kind)')
      .option('--namespace <name>', 'workload backups: include this namespace (repeatable; default all)', collect)
      .option('--exclude-namespace <name>', 'workload backups: leave this namespace out (repeatable)', collect)
      .option('--selector <selector>', 'workload backups: only objects with these labels, e.g. app=web')
      .option('--retain-days <n>', 'remove it this many days after it finished (default: kept until deleted)', wholeNumber('--retain-days')),
  ).action(
    async (
      clusterId: string,
      opts: {
        kind?: string;
        namespace?: string[];
        excludeNamespace?: string[];
        selector?: string;
        retainDays?: number;
        wait?: boolean;
        timeout: number;
        interval: number;
      },
    ) => {
      const api = client();
      const body: Schemas['CreateBackupRequest'] = {
        ...(opts.kind ? { kind: opts.kind as Schemas['CreateBackupRequest']['kind'] } : {}),
        ...(opts.namespace ? { included_namespaces: opts.namespace } : {}),
        ...(opts.excludeNamespace ? { excluded_namespaces: opts.excludeNamespace } : {}),
        ...(opts.selector ? { label_selector: opts.selector } : {}),
        ...(opts.retainDays !== undefined ? { retain_days: opts.retainDays } : {}),
      };
      const accepted = await call(api.POST('/v1/clusters/{cluster_id}/backups', { params: { path: { cluster_id: clusterId } }, body }));
      if (!opts.wait) return outOne(accepted);
      stderr.write(`backup ${accepted.backup.id}, operation ${accepted.operation.id}\n`);
      const operation = await follow(api, accepted.operation, opts);
      assertSucceeded(operation);
      outOne(
        await call(api.GET('/v1/clusters/{cluster_id}/backups/{backup_id}', { params: { path: { cluster_id: clusterId, backup_id: accepted.backup.id } } })),
      );
    },
  );
  backups
    .command('delete <cluster-id> <backup-id>')
    .description('delete an on-demand backup (scheduled and pre-upgrade ones go by their retention)')
    .action(async (clusterId: string, backupId: string) => {
      outOne(
        await call(client().DELETE('/v1/clusters/{cluster_id}/backups/{backup_id}', { params: { path: { cluster_id: clusterId, backup_id: backupId } } })),
      );
    });
  waitOptions(
    backups
      .command('restore <cluster-id> <backup-id>')
      .description("restore one of the cluster's backups (an operation)")
      .requiredOption('--scope <scope>', 'control_plane (an etcd snapshot into its own cluster) or workloads')
      .option('--target <cluster-id>', 'workloads: restore into this cluster of your organisation instead')
      .option('--namespace <name>', 'workloads: restore only this namespace (repeatable)', collect),
  ).action(
    async (
      clusterId: string,
      backupId: string,
      opts: { scope: string; target?: string; namespace?: string[]; wait?: boolean; timeout: number; interval: number },
    ) => {
      const api = client();
      const body: Schemas['RestoreRequest'] = {
        backup_id: backupId,
        scope: opts.scope as Schemas['RestoreRequest']['scope'],
        ...(opts.target ? { target_cluster_id: opts.target } : {}),
        ...(opts.namespace ? { namespaces: opts.namespace } : {}),
      };
      const accepted = await call(api.POST('/v1/clusters/{cluster_id}/restore', { params: { path: { cluster_id: clusterId } }, body }));
      if (!opts.wait) return outOne(accepted);
      const operation = await follow(api, accepted.operation, opts);
      assertSucceeded(operation);
      outOperation(operation);
    },
  );
  const schedules = backups.command('schedules').description("a cluster's backup schedules");
  schedules.command('list <cluster-id>').action(async (clusterId: string) => {
    const page = await call(client().GET('/v1/clusters/{cluster_id}/backup-schedules', { params: { path: { cluster_id: clusterId } } }));
    out(page, page.items, scheduleColumns);
  });
  schedules
    .command('create <cluster-id> <name>')
    .option('--kind <kind>', 'etcd_snapshot (RKE2 default) or workload')
    .option('--cron <expression>', 'five fields, read in --time-zone (default 0 */12 * * *)')
    .option('--time-zone <zone>', 'IANA zone, e.g. Europe/Zurich (default UTC)')
    .option('--keep <n>', 'keep the newest N good backups (default 5)', wholeNumber('--keep'))
    .option('--retain-days <n>', 'keep each backup N days instead', wholeNumber('--retain-days'))
    .option('--namespace <name>', 'workload schedules: include this namespace (repeatable)', collect)
    .option('--paused', 'create it paused')
    .action(
      async (
        clusterId: string,
        name: string,
        opts: { kind?: string; cron?: string; timeZone?: string; keep?: number; retainDays?: number; namespace?: string[]; paused?: boolean },
      ) => {
        const body: Schemas['CreateBackupScheduleRequest'] = {
          name,
          ...(opts.kind ? { kind: opts.kind as Schemas['CreateBackupScheduleRequest']['kind'] } : {}),
          ...(opts.cron ? { cron: opts.cron } : {}),
          ...(opts.timeZone ? { time_zone: opts.timeZone } : {}),
          ...(opts.keep !== undefined ? { retention_count: opts.keep } : {}),
          ...(opts.retainDays !== undefined ? { retain_days: opts.retainDays } : {}),
          ...(opts.namespace ? { included_namespaces: opts.namespace } : {}),
          ...(opts.paused ? { paused: true } : {}),
        };
        outOne(await call(client().POST('/v1/clusters/{cluster_id}/backup-schedules', { params: { path: { cluster_id: clusterId } }, body })));
      },
    );
  schedules.command('delete <cluster-id> <schedule-id>').action(async (clusterId: string, scheduleId: string) => {
    await call(
      client().DELETE('/v1/clusters/{cluster_id}/backup-schedules/{schedule_id}', { params: { path: { cluster_id: clusterId, schedule_id: scheduleId } } }),
    );
    stderr.write(`schedule ${scheduleId} deleted; the backups it took stay until their retention removes them\n`);
  });

  // ---- add-ons -----------------------------------------------------------------------------
  const addons = program.command('addons').description("a cluster's managed add-ons (docs/addons.md)");
  addons.command('list <cluster-id>').action(async (clusterId: string) => {
    const list = await call(client().GET('/v1/clusters/{cluster_id}/addons', { params: { path: { cluster_id: clusterId } } }));
    out(list, list.items, addonColumns);
  });
  waitOptions(
    addons
      .command('enable <cluster-id> <name>')
      .description("enable an add-on or change its settings (an operation; see GET /v1/addons for each one's settings)")
      .option('--set <key=value>', 'a setting (repeatable)', collect),
  ).action(async (clusterId: string, name: string, opts: { set?: string[]; wait?: boolean; timeout: number; interval: number }) => {
    const api = client();
    const body = { settings: parseSettings(opts.set ?? []) };
    const accepted = await call(api.PUT('/v1/clusters/{cluster_id}/addons/{name}', { params: { path: { cluster_id: clusterId, name } }, body }));
    if (!opts.wait) return outOne(accepted);
    const operation = await follow(api, accepted.operation, opts);
    assertSucceeded(operation);
    outOperation(operation);
  });
  waitOptions(addons.command('disable <cluster-id> <name>').description('remove a default or optional add-on (an operation)')).action(
    async (clusterId: string, name: string, opts: { wait?: boolean; timeout: number; interval: number }) => {
      const api = client();
      const accepted = await call(api.DELETE('/v1/clusters/{cluster_id}/addons/{name}', { params: { path: { cluster_id: clusterId, name } } }));
      if (!opts.wait) return outOne(accepted);
      const operation = await follow(api, accepted.operation, opts);
      assertSucceeded(operation);
      outOperation(operation);
    },
  );

  // ---- SLA and events ----------------------------------------------------------------------
  program
    .command('sla')
    .description('availability against the SLA')
    .command('report <cluster-id>')
    .option('--month <yyyy-mm>', 'default: this month (UTC)', new Date().toISOString().slice(0, 7))
    .action(async (clusterId: string, opts: { month: string }) => {
      const report = await call(client().GET('/v1/clusters/{cluster_id}/sla', { params: { path: { cluster_id: clusterId }, query: { month: opts.month } } }));
      // The table is the summary; the days, periods, exclusions and the rules' doc links are in -o json.
      const { days: _days, downtime_periods: _downtime, exclusions: _exclusions, rules: _rules, ...summary } = report;
      outOne(globals().output === 'table' ? summary : report);
    });
  program
    .command('events')
    .description("your organisation's events (CloudEvents)")
    .option('--type <type>')
    .option('--limit <n>', 'page size', wholeNumber('--limit'))
    .action(async (opts: { type?: string; limit?: number }) => {
      const page = await call(client().GET('/v1/events', { params: { query: { type: opts.type, limit: opts.limit } as never } }));
      out(page, page.items, [
        ['ID', (e) => e.id],
        ['TIME', (e) => e.time],
        ['TYPE', (e) => e.type],
        ['SUBJECT', (e) => e.subject],
      ]);
    });

  // ---- catalogue: what a cluster can be created with ------------------------------------------
  program
    .command('regions')
    .description('regions per provider, and which your data residency allows')
    .addOption(providerFilter())
    .action(async (opts: { provider?: Provider }) => {
      const list = await call(client().GET('/v1/regions', { params: { query: { provider: opts.provider } } }));
      out(list, list.items, [
        ['ID', (r) => r.id],
        ['PROVIDER', (r) => r.provider],
        ['NAME', (r) => r.display_name],
        ['COUNTRY', (r) => r.country],
        ['ALLOWED', (r) => (r.allowed ? 'yes' : 'no')],
      ]);
    });
  program
    .command('versions')
    .description('Kubernetes minors per provider: state, support dates and release channels')
    .addOption(providerFilter())
    .action(async (opts: { provider?: Provider }) => {
      const list = await call(client().GET('/v1/versions', { params: { query: { provider: opts.provider } } }));
      out(list, list.items, [
        ['PROVIDER', (v) => v.provider],
        ['MINOR', (v) => v.minor],
        ['LATEST PATCH', (v) => v.latest_patch],
        ['STATE', (v) => v.state],
        ['DEFAULT', (v) => (v.default_for_new ? 'yes' : '')],
        ['END OF SUPPORT', (v) => v.end_of_support_at],
        ['CHANNELS', (v) => v.channels.join(',')],
      ]);
    });
  program
    .command('machine-types')
    .description('machine types per provider, with their size and monthly price')
    .addOption(providerFilter())
    .action(async (opts: { provider?: Provider }) => {
      const list = await call(client().GET('/v1/machine-types', { params: { query: { provider: opts.provider } } }));
      out(list, list.items, [
        ['ID', (m) => m.id],
        ['PROVIDER', (m) => m.provider],
        ['VCPUS', (m) => m.vcpus],
        ['MEMORY GIB', (m) => m.memory_gib],
        ['CENTS/MONTH', (m) => m.monthly_price_cents],
      ]);
    });

  // ---- staff -------------------------------------------------------------------------------
  const admin = program.command('admin').description('staff commands (a staff token: capstaff_... or OIDC)');
  const orgs = admin.command('organizations').alias('orgs');
  orgs
    .command('list')
    .option('--q <text>', 'search')
    .option('--status <status>')
    .action(async (opts: { q?: string; status?: string }) => {
      const page = await call(client().GET('/admin/v1/organizations', { params: { query: { q: opts.q, status: opts.status } as never } }));
      out(page, page.items, [
        ['ID', (o) => o.id],
        ['NAME', (o) => o.name],
        ['DISPLAY NAME', (o) => o.display_name],
        ['PLAN', (o) => o.plan],
        ['STATUS', (o) => o.status],
      ]);
    });
  orgs.command('get <organization-id>').action(async (id: string) => {
    outOne(await call(client().GET('/admin/v1/organizations/{organization_id}', { params: { path: { organization_id: id } } })));
  });
  orgs
    .command('suspend <organization-id>')
    .requiredOption('--reason <text>')
    .action(async (id: string, opts: { reason: string }) => {
      outOne(
        await call(
          client().POST('/admin/v1/organizations/{organization_id}/suspend', { params: { path: { organization_id: id } }, body: { reason: opts.reason } }),
        ),
      );
    });
  orgs
    .command('resume <organization-id>')
    .requiredOption('--reason <text>')
    .action(async (id: string, opts: { reason: string }) => {
      outOne(
        await call(
          client().POST('/admin/v1/organizations/{organization_id}/resume', { params: { path: { organization_id: id } }, body: { reason: opts.reason } }),
        ),
      );
    });
  const tokens = admin.command('tokens').description("an organisation's API tokens");
  tokens
    .command('issue <organization-id>')
    .description('issue an API token for an organisation (its secret is shown once)')
    .requiredOption('--name <name>')
    .requiredOption('--reason <text>')
    .option('--expires-in <seconds>', 'lifetime', wholeNumber('--expires-in'))
    .action(async (id: string, opts: { name: string; reason: string; expiresIn?: number }) => {
      const body = { name: opts.name, reason: opts.reason, ...(opts.expiresIn ? { expires_in_seconds: opts.expiresIn } : {}) };
      outOne(await call(client().POST('/admin/v1/organizations/{organization_id}/tokens', { params: { path: { organization_id: id } }, body })));
    });
  pageOptions(tokens.command('list <organization-id>').description("an organisation's live tokens, with when each was last used")).action(
    async (id: string, opts: { limit?: number; cursor?: string }) => {
      const page = await call(
        client().GET('/admin/v1/organizations/{organization_id}/tokens', {
          params: { path: { organization_id: id }, query: { limit: opts.limit, cursor: opts.cursor } as never },
        }),
      );
      outPage<Schemas['ApiToken']>(page, [
        ['ID', (t) => t.id],
        ['NAME', (t) => t.name],
        ['PREFIX', (t) => t.display_prefix],
        ['SCOPES', (t) => t.scopes.join(',')],
        ['LAST USED', (t) => t.last_used_at],
        ['EXPIRES', (t) => t.expires_at],
        ['CREATED', (t) => t.created_at],
      ]);
    },
  );
  tokens
    .command('revoke <organization-id> <token-id>')
    .description('revoke one of its tokens: it answers 401 from now on')
    .requiredOption('--reason <text>')
    .action(async (organizationId: string, tokenId: string, opts: { reason: string }) => {
      await call(
        client().POST('/admin/v1/organizations/{organization_id}/tokens/{token_id}/revoke', {
          params: { path: { organization_id: organizationId, token_id: tokenId } },
          body: { reason: opts.reason },
        }),
      );
      stderr.write(`revoked ${tokenId}\n`);
    });
  tokens
    .command('revoke-leaked')
    .description(
      'revoke a leaked token by its secret, read from stdin (never from the command line, where ps and shell history keep it): a customer cap_... or a staff capstaff_... token',
    )
    .requiredOption('--reason <text>')
    .action(async (opts: { reason: string }) => {
      const secret = (await readStdin()).trim();
      if (!secret)
        throw new CliError('revoke-leaked: give the leaked secret on stdin, e.g. pbpaste | capstan admin tokens revoke-leaked --reason ...', EXIT.usage);
      const body = { secret, reason: opts.reason };
      // A staff secret has its own route: the customer one refuses it as not a customer secret.
      if (secret.startsWith('capstaff_')) outOne(await call(client().POST('/admin/v1/staff-tokens/revoke', { body })));
      else outOne(await call(client().POST('/admin/v1/tokens/revoke', { body })));
    });
  admin
    .command('staff-tokens')
    .description('staff tokens (capstaff_...): revoke one by id (admins); a leaked secret alone: admin tokens revoke-leaked')
    .command('revoke <token-id>')
    .description('revoke a staff token by id (admin role): it answers 401 from now on; refused if no admin would keep a way to sign in')
    .requiredOption('--reason <text>')
    .action(async (tokenId: string, opts: { reason: string }) => {
      outOne(
        await call(
          client().POST('/admin/v1/staff-tokens/{staff_token_id}/revoke', { params: { path: { staff_token_id: tokenId } }, body: { reason: opts.reason } }),
        ),
      );
    });
  pageOptions(
    admin
      .command('audit')
      .description('the audit log across organisations, newest first: who changed what, when and why')
      .option('--organization <id>')
      .option('--actor <id>', 'an API token (tok_...), a staff user or token, or a system actor (sla-monitor)')
      .option('--action <action>', 'e.g. cluster.update, token.revoke')
      .option('--target <id>', 'the changed object, e.g. cl_...')
      .option('--since <when>', 'RFC 3339, or a time ago: 90m, 24h, 7d', instantOption('--since'))
      .option('--until <when>', 'RFC 3339, or a time ago: 90m, 24h, 7d', instantOption('--until')),
  ).action(
    async (opts: {
      organization?: string;
      actor?: string;
      action?: string;
      target?: string;
      since?: string;
      until?: string;
      limit?: number;
      cursor?: string;
    }) => {
      const query = {
        organization_id: opts.organization,
        actor_id: opts.actor,
        action: opts.action,
        target_id: opts.target,
        since: opts.since,
        until: opts.until,
        limit: opts.limit,
        cursor: opts.cursor,
      } as never;
      const page = await call(client().GET('/admin/v1/audit-events', { params: { query } }));
      outPage<Schemas['AuditEvent']>(page, [
        ['TIME', (e) => e.created_at],
        ['ORGANIZATION', (e) => e.organization_id],
        ['ACTOR', (e) => `${e.actor.type}:${e.actor.id}`],
        ['ACTION', (e) => e.action],
        ['TARGET', (e) => e.target.id],
        ['CHANGED', (e) => Object.keys(e.changes).join(', ')],
        ['REASON', (e) => e.reason],
      ]);
    },
  );
  pageOptions(
    admin
      .command('clusters')
      .description("the fleet: every organisation's clusters")
      .option('--organization <id>')
      .option('--status <status>', 'e.g. degraded, error')
      .option('--provider <provider>')
      .option('--version <version>', 'a minor (1.31: any patch) or a version (1.31.4) the control plane runs')
      .option('--support <support>', "eol (past end of support), deprecated (end of support near) or supported, from the provider's version catalogue"),
  ).action(async (opts: { organization?: string; status?: string; provider?: string; version?: string; support?: string; limit?: number; cursor?: string }) => {
    const query = {
      organization_id: opts.organization,
      status: opts.status,
      provider: opts.provider,
      version: opts.version,
      support: opts.support,
      limit: opts.limit,
      cursor: opts.cursor,
    } as never;
    const page = await call(client().GET('/admin/v1/clusters', { params: { query } }));
    outPage<Schemas['AdminCluster']>(page, [
      ['ORGANIZATION', (c) => c.organization_id],
      ...clusterColumns,
      ['SUPPORT', (c) => c.support.status],
      ['END OF SUPPORT', (c) => c.support.end_of_support_at],
    ]);
  });
  pageOptions(
    admin
      .command('operations')
      .description("the fleet: every organisation's operations")
      .option('--organization <id>')
      .option('--status <status>', 'e.g. failed, needs_attention')
      .option('--type <type>')
      .option(
        '--created-before <when>',
        'only those created before: RFC 3339, or a time ago (2h): with --status running, the stuck ones',
        instantOption('--created-before'),
      ),
  ).action(async (opts: { organization?: string; status?: string; type?: string; createdBefore?: string; limit?: number; cursor?: string }) => {
    const query = {
      organization_id: opts.organization,
      status: opts.status,
      type: opts.type,
      created_before: opts.createdBefore,
      limit: opts.limit,
      cursor: opts.cursor,
    } as never;
    const page = await call(client().GET('/admin/v1/operations', { params: { query } }));
    outPage<Operation>(page, [['ORGANIZATION', (o) => (o as unknown as { organization_id?: string }).organization_id], ...operationColumns]);
  });
  pageOptions(
    admin
      .command('backups')
      .description('backups across the fleet, newest first')
      .option('--state <state>', 'e.g. failed')
      .option('--organization <id>')
      .option('--cluster <cluster-id>'),
  ).action(async (opts: { state?: string; organization?: string; cluster?: string; limit?: number; cursor?: string }) => {
    const page = await call(
      client().GET('/admin/v1/backups', {
        params: { query: { state: opts.state, organization_id: opts.organization, cluster_id: opts.cluster, limit: opts.limit, cursor: opts.cursor } as never },
      }),
    );
    outPage<Backup>(page, [['CLUSTER', (b) => b.cluster_id], ...backupColumns]);
  });
  pageOptions(
    admin
      .command('breaches')
      .description('clusters of every organisation that missed their SLA target in the month, with the credit owed')
      .option('--month <yyyy-mm>')
      .option('--organization <id>'),
  ).action(async (opts: { month?: string; organization?: string; limit?: number; cursor?: string }) => {
    const page = await call(
      client().GET('/admin/v1/sla/breaches', {
        params: { query: { month: opts.month, organization_id: opts.organization, limit: opts.limit, cursor: opts.cursor } as never },
      }),
    );
    type Breach = Schemas['SlaSummary'] & { organization_id: string };
    outPage<Breach>(page, [
      ['ORGANIZATION', (b) => b.organization_id],
      ['CLUSTER', (b) => b.cluster_id],
      ['NAME', (b) => b.cluster_name],
      ['PROVIDER', (b) => b.provider],
      ['TARGET %', (b) => b.target_percent],
      ['AVAILABILITY %', (b) => b.availability_percent],
      ['DOWN MIN', (b) => b.counted_downtime_minutes],
      ['CREDIT %', (b) => b.credit.percent],
      ['FINAL', (b) => b.final],
    ]);
  });
  admin
    .command('alerts')
    .description('clusters whose error budget is burning now (a burn-rate alert firing), pages first, with their month so far')
    .option('--organization <id>')
    .action(async (opts: { organization?: string }) => {
      const list = await call(client().GET('/admin/v1/sla/alerts', { params: { query: { organization_id: opts.organization } as never } }));
      out(list, list.items, [
        ['SEVERITY', (a) => a.alert.severity],
        ['FIRING SINCE', (a) => a.alert.firing_since],
        ['ORGANIZATION', (a) => a.organization_id],
        ['CLUSTER', (a) => a.cluster_id],
        ['NAME', (a) => a.cluster_name],
        ['AVAILABILITY %', (a) => a.availability_percent],
        ['BUDGET USED MIN', (a) => a.error_budget.used_minutes],
        ['BUDGET LEFT MIN', (a) => a.error_budget.remaining_minutes],
      ]);
    });
  admin
    .command('advisories')
    .description('fleet exposure: every advisory (vulnerable or retired component) with the clusters it affects')
    .option('--advisory <id>', 'only this advisory, e.g. CVE-2025-1974')
    .action(async (opts: { advisory?: string }) => {
      const list = await call(client().GET('/admin/v1/advisories'));
      const advisories = opts.advisory ? list.items.filter((a) => a.id === opts.advisory) : list.items;
      if (opts.advisory && advisories.length === 0) throw new CliError(`no advisory ${opts.advisory}`, EXIT.notFound);
      // One row per affected cluster; an advisory that affects none still gets its row, saying so:
      // "nobody is exposed" is an answer on-call staff look for, not an absent line.
      type Exposure = { advisory: (typeof advisories)[number]; cluster?: (typeof advisories)[number]['clusters'][number] };
      const rows: Exposure[] = advisories.flatMap((advisory) =>
        advisory.clusters.length === 0 ? [{ advisory }] : advisory.clusters.map((cluster) => ({ advisory, cluster })),
      );
      out({ items: advisories }, rows, [
        ['ADVISORY', (r) => r.advisory.id],
        ['SEVERITY', (r) => r.advisory.severity],
        ['ORGANIZATION', (r) => r.cluster?.organization_id],
        ['CLUSTER', (r) => r.cluster?.cluster_id ?? 'no cluster affected'],
        ['NAME', (r) => r.cluster?.name],
        ['COMPONENT', (r) => (r.cluster ? `${r.cluster.component} ${r.cluster.version ?? '(version unknown)'}` : r.advisory.component)],
        // Found by the component scan: where it runs and as of when (a cluster unreachable since keeps its last findings).
        ['FOUND IN', (r) => (r.cluster?.workload ? `${r.cluster.workload.namespace}/${r.cluster.workload.name} as of ${r.cluster.as_of}` : undefined)],
        ['FIXED IN', (r) => r.advisory.fixed_in.join(', ')],
      ]);
    });
  admin
    .command('credits')
    .description('SLA credits owed for a month, per cluster, with the minutes and charges behind each (--csv: the file for billing)')
    .option('--month <yyyy-mm>', 'default: the current month')
    .option('--organization <org-id>', "only this organisation's clusters")
    .option('--csv', 'print the CSV export as the API answers it (RFC 4180), for billing to load')
    .action(async (opts: { month?: string; organization?: string; csv?: boolean }) => {
      const api = client();
      const query = { month: opts.month, organization_id: opts.organization } as never;
      if (opts.csv) {
        const answer = await call(api.GET('/admin/v1/billing/credits', { params: { query }, headers: { accept: 'text/csv' }, parseAs: 'text' }));
        stdout.write(answer as unknown as string);
        return;
      }
      const list = (await call(api.GET('/admin/v1/billing/credits', { params: { query } }))) as Schemas['SlaCreditList'];
      out(list, list.items, [
        ['ORGANIZATION', (c) => c.organization_id],
        ['CLUSTER', (c) => c.cluster_id],
        ['NAME', (c) => c.cluster_name],
        ['AVAILABILITY %', (c) => c.availability_percent],
        ['DOWN MIN', (c) => c.counted_downtime_minutes],
        ['CREDIT %', (c) => c.credit_percent],
        ['CHARGES', (c) => money(c.charges_cents, c.currency)],
        ['CREDIT', (c) => money(c.credit_amount_cents, c.currency)],
        ['FINAL', (c) => c.final],
      ]);
    });

  return program;
}

/** Cents as an amount with its currency, e.g. `1234.50 CHF`. */
function money(cents: number, currency: string): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency}`;
}

/** All of stdin, for a secret that must not appear on the command line. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

/** Adds the new cluster, user and context (replacing ones of the same name) to an existing kubeconfig. */
export function mergeKubeconfig(existingText: string, addedText: string, switchContext: boolean): string {
  type Named = { name: string };
  const existing = (parse(existingText) ?? {}) as Record<string, unknown>;
  const added = parse(addedText) as Record<string, unknown>;
  const merged: Record<string, unknown> = { apiVersion: 'v1', kind: 'Config', ...existing };
  for (const key of ['clusters', 'users', 'contexts']) {
    const incoming = (added[key] as Named[] | undefined) ?? [];
    const names = new Set(incoming.map((e) => e.name));
    merged[key] = [...((existing[key] as Named[] | undefined) ?? []).filter((e) => !names.has(e.name)), ...incoming];
  }
  if (switchContext || !merged['current-context']) merged['current-context'] = added['current-context'];
  return stringify(merged);
}

export const CLI_VERSION = '0.1.0';

/** Runs the CLI and answers its exit code (docs/cli.md, Exit codes); never calls process.exit itself. */
export async function run(argv: string[], options: RunOptions): Promise<number> {
  const stderr = options.stderr ?? process.stderr;
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    (options.stdout ?? process.stdout).write(`${CLI_VERSION}\n`);
    return EXIT.ok;
  }
  const program = buildProgram(options);
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; every other commander error is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      stderr.write(`Error: ${error.message}\n`);
      return error.exitCode;
    }
    stderr.write(`Error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.apiError;
  }
}
