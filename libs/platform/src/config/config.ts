import ipaddr from 'ipaddr.js';
import { z } from 'zod';

function isCidr(value: string): boolean {
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Capstan's settings, read from the environment once at boot and validated here.
 *
 * Each concern gets its own typed object (injected as a class token, see config.module.ts), so a
 * service asks for exactly the settings it uses and nothing reads `process.env` at random.
 * A missing or malformed setting stops the process with one line naming it (ConfigError).
 */

const port = (fallback: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(fallback);

const postgresUrl = z
  .string()
  .url('must be a URL')
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgresql:// URL');

const redisUrl = z
  .string()
  .url('must be a URL')
  .refine((value) => /^rediss?:\/\//.test(value), 'must be a redis:// URL');

const booleanFlag = z.enum(['true', 'false', '1', '0'], { message: 'must be true or false' }).transform((v) => v === 'true' || v === '1');

/**
 * `keyId:base64Key` pairs separated by commas; the first is used to seal, every one can open.
 * Keeping retired keys in the ring is how rotation works without rewriting every secret at once.
 */
const secretsKeyring = z
  .string()
  .min(1)
  .transform((value, ctx) => {
    const keys = value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    const parsed: { id: string; key: Buffer }[] = [];
    for (const entry of keys) {
      const [id, material] = entry.split(':');
      const key = material ? Buffer.from(material, 'base64') : Buffer.alloc(0);
      if (!id || !/^[a-z0-9-]{1,32}$/.test(id) || key.length !== 32) {
        ctx.addIssue({ code: 'custom', message: 'must be keyId:base64 pairs of 32-byte keys' });
        return z.NEVER;
      }
      parsed.push({ id, key });
    }
    if (parsed.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must hold at least one key' });
      return z.NEVER;
    }
    return parsed;
  });

/** `region=value,region=value`: per-region settings of the GKE driver. */
function regionMap(what: string) {
  return z
    .string()
    .regex(/^[a-z0-9-]+=[a-z0-9-]+(,[a-z0-9-]+=[a-z0-9-]+)*$/, `must be region=value pairs separated by commas (${what})`)
    .transform((value) => Object.fromEntries(value.split(',').map((pair) => pair.split('=') as [string, string])));
}

export const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: booleanFlag.default(false),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port(8080),
  WORKER_PORT: port(8081),
  SLA_MONITOR_PORT: port(8082),
  PUBLIC_URL: z.string().url('must be a URL').optional(),
  IDEMPOTENCY_LEASE_MS: z.coerce.number({ message: 'must be a number' }).int().min(1_000).max(3_600_000).default(60_000),
  METRICS_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9._~+/=-]{32,256}$/, 'must be 32 to 256 characters of a bearer token')
    .optional(),
  METRICS_ALLOWED_NETWORKS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .refine((cidrs) => cidrs.every(isCidr), 'must be comma-separated CIDR ranges such as 10.0.0.0/8,fd00::/8')
    .optional(),
  DATABASE_URL: postgresUrl,
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  // Named (server-side) prepared statements for the hottest reads (CompiledOnce); `false` behind
  // a pooler that cannot carry them (PgBouncer in transaction mode before 1.21).
  DATABASE_PREPARED_STATEMENTS: booleanFlag.default(true),
  REDIS_URL: redisUrl,
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-z0-9:_-]{1,64}$/, 'must be a short key prefix')
    .default('capstan'),
  SECRETS_KEYS: secretsKeyring,
  // `drivers`: each cluster's own driver (RKE2 via Cluster API, GKE via the Container API), against
  // real backends or the emulators; `simulated`: the older simulated cloud API for every cluster.
  PROVIDER: z.enum(['drivers', 'simulated']).default('drivers'),
  SIMULATOR_URL: z.string().url('must be a URL').default('http://127.0.0.1:8090'),
  SIMULATOR_API_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9._~+/=-]{32,256}$/, 'must be 32 to 256 characters of a bearer token')
    .optional(),
  WORKER_CONCURRENCY: z.coerce.number({ message: 'must be a number' }).int().min(1).max(200).default(8),
  OPERATION_MAX_ATTEMPTS: z.coerce.number({ message: 'must be a number' }).int().min(1).max(50).default(6),
  OPERATION_BACKOFF_MS: z.coerce.number({ message: 'must be a number' }).int().min(0).max(600_000).default(2_000),
  JOB_LOCK_MS: z.coerce.number({ message: 'must be a number' }).int().min(1_000).max(600_000).default(30_000),
  STEP_TIMEOUT_MS: z.coerce
    .number({ message: 'must be a number' })
    .int()
    .min(1_000)
    .max(24 * 3_600_000)
    .default(1_200_000),
  SLA_PROBE_INTERVAL_MS: z.coerce.number({ message: 'must be a number' }).int().min(50).max(600_000).default(10_000),
  SLA_PROBE_TIMEOUT_MS: z.coerce.number({ message: 'must be a number' }).int().min(50).max(60_000).default(2_000),
  SLA_PROBE_CONCURRENCY: z.coerce.number({ message: 'must be a number' }).int().min(1).max(5_000).default(256),
  SLA_FLUSH_INTERVAL_MS: z.coerce.number({ message: 'must be a number' }).int().min(50).max(60_000).default(1_000),
  SLA_RAW_PROBE_RETENTION_MS: z.coerce
    .number({ message: 'must be a number' })
    .int()
    .min(0)
    .max(30 * 24 * 3_600_000)
    .default(3_600_000),
  SLA_VANTAGE: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, 'must be a short lower-case name')
    .default('default'),
  SLA_DEGRADED_AFTER_MINUTES: z.coerce.number({ message: 'must be a number' }).int().min(1).max(4).default(3),
  RECONCILE_INTERVAL_MS: z.coerce.number({ message: 'must be a number' }).int().min(100).max(3_600_000).default(30_000),
  OIDC_ISSUER: z.string().url('must be a URL').optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  OIDC_JWKS_URL: z.string().url('must be a URL').optional(),
  OIDC_ROLE_CLAIM: z.string().min(1).default('capstan_role'),
  RATE_LIMIT_PER_MINUTE: z.coerce.number({ message: 'must be a number' }).int().min(1).max(1_000_000).default(600),
  AUTH_FAILURES_PER_MINUTE: z.coerce.number({ message: 'must be a number' }).int().min(1).max(1_000_000).default(30),
  TOKENS_PER_ORGANIZATION: z.coerce.number({ message: 'must be a number' }).int().min(1).max(100_000).default(100),
  BOARD_SESSION_TTL_SECONDS: z.coerce.number({ message: 'must be a number' }).int().min(1).max(43_200).default(900),
  WEBHOOKS_ALLOW_PLAIN_HTTP: booleanFlag.default(false),
  WEBHOOKS_ALLOW_PRIVATE_NETWORKS: booleanFlag.default(false),
  EVENT_RETENTION_DAYS: z.coerce.number({ message: 'must be a number' }).int().min(1).max(3650).default(90),
  OPERATION_RETRY_FOR_MS: z.coerce
    .number({ message: 'must be a number' })
    .int()
    .min(0)
    .max(7 * 24 * 3_600_000)
    .default(1_800_000),
  OPERATION_BACKOFF_MAX_MS: z.coerce.number({ message: 'must be a number' }).int().min(10).max(3_600_000).default(60_000),
  WAIT_POLL_MAX_MS: z.coerce.number({ message: 'must be a number' }).int().min(10).max(600_000).default(5_000),
  WORKER_SHUTDOWN_GRACE_MS: z.coerce.number({ message: 'must be a number' }).int().min(0).max(3_600_000).default(25_000),
  // How long a node drain may stay unfinished before the upgrade asks a person (docs/upgrades.md, "Drains").
  UPGRADE_DRAIN_TIMEOUT_MS: z.coerce
    .number({ message: 'must be a number' })
    .int()
    .min(0)
    .max(24 * 3_600_000)
    .default(900_000),
  CAPSTAN_TEST_CRASH_AT: z
    .string()
    .regex(/^[a-z:,-]*$/, 'must be a comma-separated list of crash points')
    .default(''),
  CLOCK_SPEED: z.coerce.number({ message: 'must be a number' }).min(1).max(100_000).default(1),
  // The RKE2 driver (Cluster API + CAPRKE2 on a management cluster), see Rke2Config.
  RKE2_MANAGEMENT_KUBECONFIG: z.string().min(1).optional(),
  RKE2_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a namespace name (a DNS label)')
    .default('capstan-clusters'),
  RKE2_INFRASTRUCTURE_TEMPLATE_API_VERSION: z
    .string()
    .regex(/^[a-z0-9.-]+\/v[a-z0-9]+$/, 'must be group/version, e.g. infrastructure.cluster.x-k8s.io/v1beta1')
    .default('infrastructure.cluster.x-k8s.io/v1beta1'),
  RKE2_INFRASTRUCTURE_TEMPLATE_KIND: z
    .string()
    .regex(/^[A-Z][A-Za-z0-9]*$/, 'must be a Kubernetes kind, e.g. Metal3MachineTemplate')
    .default('DevMachineTemplate'),
  RKE2_INFRASTRUCTURE_CLUSTER_KIND: z
    .string()
    .regex(/^[A-Z][A-Za-z0-9]*$/, 'must be a Kubernetes kind, e.g. Metal3Cluster')
    .optional(),
  RKE2_INFRASTRUCTURE_MACHINE_SPEC: z
    .string()
    .refine((value) => isJsonObject(value.replaceAll('{{machineType}}', 'x')), 'must be a JSON object (the machine template spec)')
    .optional(),
  RKE2_CONTROL_PLANE_REPLICAS: z.enum(['1', '3', '5'], { message: 'must be 1, 3 or 5' }).transform(Number).default(3),
  RKE2_CONTROL_PLANE_MACHINE_TYPE: z.string().min(1).max(253).default('control-plane'),
  RKE2_REQUEST_TIMEOUT_MS: z.coerce.number({ message: 'must be a number' }).int().min(100).max(600_000).default(30_000),
  // Where RKE2 clusters upload their etcd snapshots (RKE2's etcd-s3-* server settings); unset bucket = on the servers' disks only.
  RKE2_ETCD_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
    .optional(),
  RKE2_ETCD_S3_ENDPOINT: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'must be a host name with an optional port, without a scheme (RKE2 etcd-s3-endpoint)')
    .default('s3.amazonaws.com'),
  RKE2_ETCD_S3_FOLDER: z
    .string()
    .regex(/^[A-Za-z0-9._/-]{0,200}$/, 'must be a folder path')
    .optional(),
  RKE2_ETCD_S3_REGION: z
    .string()
    .regex(/^[a-z0-9-]{1,50}$/, 'must be a region name')
    .optional(),
  RKE2_ETCD_S3_CREDENTIALS_SECRET: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a Secret name in RKE2_NAMESPACE')
    .optional(),
  // The GKE driver (Container API v1), see GkeConfig.
  GKE_PROJECT: z
    .string()
    .regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, 'must be a Google Cloud project id')
    .optional(),
  GKE_API_ENDPOINT: z
    .string()
    .url('must be a URL')
    .refine((value) => /^https?:\/\/[^/]+\/?$/.test(value), 'must be a scheme and host (and port), e.g. https://container.googleapis.com')
    .default('https://container.googleapis.com'),
  GKE_TOKEN_URL: z.string().url('must be a URL').optional(),
  GKE_CLIENT_SECRET: z.string().min(1).max(512).optional(),
  GKE_ACCESS_TOKEN: z.string().min(1).max(4096).optional(),
  GKE_RELEASE_CHANNEL: z.enum(['RAPID', 'REGULAR', 'STABLE', 'EXTENDED'], { message: 'must be RAPID, REGULAR, STABLE or EXTENDED' }).default('REGULAR'),
  GKE_LOCATIONS: regionMap('GKE locations').optional(),
  GKE_NODE_ZONES: regionMap('zones').optional(),
  GKE_TLS_SERVER_NAME_FROM_DNS_ENDPOINT: booleanFlag.default(false),
  GKE_REQUEST_TIMEOUT_MS: z.coerce.number({ message: 'must be a number' }).int().min(100).max(600_000).default(30_000),
  // How often the worker compares GKE's copy of each cluster's settings with Capstan's (docs/gke-driver.md, "Drift").
  GKE_DRIFT_CHECK_MINUTES: z.coerce
    .number({ message: 'must be a number of minutes' })
    .int('must be a whole number of minutes')
    .min(0, 'must be 0 (off) or 1 to 1440 minutes')
    .max(1440, 'must be 0 (off) or 1 to 1440 minutes')
    .default(15),
  GKE_BACKUP_API_ENDPOINT: z
    .string()
    .url('must be a URL')
    .refine((value) => /^https?:\/\/[^/]+\/?$/.test(value), 'must be a scheme and host (and port), e.g. https://gkebackup.googleapis.com')
    .default('https://gkebackup.googleapis.com'),
  GKE_DATABASE_ENCRYPTION_KEY: z
    .string()
    .regex(
      /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/,
      'must be a Cloud KMS key name, projects/P/locations/L/keyRings/R/cryptoKeys/K',
    )
    .optional(),
  CLOCK_ORIGIN: z.string().datetime({ offset: true, message: 'must be an ISO-8601 instant, e.g. 2026-12-04T18:00:00Z' }).optional(),
});

export type Environment = z.input<typeof environmentSchema>;

function isJsonObject(value: string): boolean {
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

export class HttpConfig {
  constructor(
    readonly host: string,
    readonly apiPort: number,
    readonly workerPort: number,
    readonly slaMonitorPort: number,
    readonly publicUrl: string,
    /** When set, /metrics wants `Authorization: Bearer <token>`. */
    readonly metricsToken?: string,
    /** When set, /metrics answers only clients in these CIDR ranges. */
    readonly metricsAllowedNetworks?: readonly string[],
    /**
     * How long an Idempotency-Key stays "in flight" without an answer: about a request's longest
     * run. A request whose process died frees its key after this, not after the 24 h retention.
     */
    readonly idempotencyLeaseMs = 60_000,
  ) {}
}

export class DatabaseConfig {
  constructor(
    readonly url: string,
    readonly poolSize: number,
    /** Whether CompiledOnce statements run as named prepared statements (DATABASE_PREPARED_STATEMENTS). */
    readonly preparedStatements = true,
  ) {}
}

export class RedisConfig {
  constructor(
    readonly url: string,
    readonly prefix: string,
  ) {}
}

export class LogConfig {
  constructor(
    readonly level: string,
    readonly pretty: boolean,
  ) {}
}

export class SecretsConfig {
  constructor(readonly keyring: readonly { id: string; key: Buffer }[]) {}
}

export class ProviderConfig {
  constructor(
    /** `drivers` (per cluster, see ClusterProvidersModule in @capstan/kube) or the older `simulated` cloud. */
    readonly driver: 'drivers' | 'simulated',
    readonly simulatorUrl: string,
    /** The simulated cloud's API credential, sent as a bearer token on every call. */
    readonly simulatorToken?: string,
  ) {}
}

/**
 * The RKE2 driver: Capstan's clusters as Cluster API + CAPRKE2 objects on a management cluster
 * (docs/rke2-driver.md). Without a kubeconfig the driver is not available (a clear error when a
 * cluster needs it, not at boot: an installation may sell GKE alone).
 */
export class Rke2Config {
  constructor(
    /** Path of the management cluster's kubeconfig file. */
    readonly managementKubeconfigPath: string | undefined,
    /** The one namespace that holds every cluster's objects. */
    readonly namespace: string,
    readonly infrastructureApiVersion: string,
    readonly infrastructureTemplateKind: string,
    /** Unset: the template kind with `MachineTemplate` replaced by `Cluster` (Cluster API's convention). */
    readonly infrastructureClusterKind: string | undefined,
    /** JSON of the machine template's `spec.template.spec`; `{{machineType}}` is replaced per pool. */
    readonly infrastructureMachineSpec: string | undefined,
    readonly controlPlaneReplicas: number,
    readonly controlPlaneMachineType: string,
    readonly requestTimeoutMs: number,
    /** Where clusters upload their etcd snapshots; null = on the servers' disks only. */
    readonly etcdS3: Rke2EtcdS3Config | null = null,
  ) {}
}

/**
 * RKE2's `etcd-s3-*` server settings for every cluster, as CAPRKE2's
 * `serverConfig.etcd.backupConfig.s3` carries them; the credentials are a Secret in the clusters'
 * namespace with `aws_access_key_id` and `aws_secret_access_key` (none: the servers' IAM role).
 */
export interface Rke2EtcdS3Config {
  endpoint: string;
  bucket: string;
  folder?: string;
  region?: string;
  credentialsSecret?: string;
}

/**
 * The GKE driver: Managed GKE through the Container API v1 (docs/gke-driver.md). Without a
 * project the driver is not available (a clear error when a GKE cluster needs it, not at boot).
 * Credentials are explicit, a token endpoint (client credentials) or a static token: Google's
 * application-default credential discovery is not used.
 */
export class GkeConfig {
  constructor(
    readonly project: string | undefined,
    /** Root of the Container API: Google's, or the simulated cloud's emulator (`http://127.0.0.1:8091`). */
    readonly apiEndpoint: string,
    readonly tokenUrl: string | undefined,
    readonly clientSecret: string | undefined,
    readonly accessToken: string | undefined,
    readonly releaseChannel: 'RAPID' | 'REGULAR' | 'STABLE' | 'EXTENDED',
    /** Capstan region -> GKE location; unset regions are their own location (regional clusters). */
    readonly locations: Readonly<Record<string, string>>,
    /** Capstan region -> the zone its node pools run in; default `<region>-b`. */
    readonly nodeZones: Readonly<Record<string, string>>,
    /** Send the cluster's DNS endpoint as TLS server name (the emulator serves every cluster on one address). */
    readonly tlsServerNameFromDnsEndpoint: boolean,
    readonly requestTimeoutMs: number,
    /** Root of the Backup for GKE API (gkebackup v1): Google's, or the emulator's (it serves both APIs on one port). */
    readonly backupApiEndpoint: string = 'https://gkebackup.googleapis.com',
    /**
     * Cloud KMS key for GKE's application-layer Secrets encryption (`databaseEncryption`; docs/addons.md,
     * "Security baseline"); null: GKE's default encryption at rest only.
     */
    readonly databaseEncryptionKey: string | null = null,
    /**
     * Minutes between two drift checks of the GKE clusters' settings (docs/gke-driver.md,
     * "Drift"); 0 turns the check off.
     */
    readonly driftCheckMinutes: number = 15,
  ) {}
}

/** How the worker runs operations. */
export class EngineConfig {
  constructor(
    readonly concurrency: number,
    /** Attempts per operation job before the operation is marked failed. */
    readonly maxAttempts: number,
    /** First retry delay; doubles with each attempt (BullMQ exponential backoff). */
    readonly backoffMs: number,
    /** How often the reconciler looks for operations that lost their job. */
    readonly reconcileIntervalMs: number,
    /**
     * How long a worker's claim on a job, and its lease on the operation, last without renewal. A
     * killed worker's job is handed to another after about this long (BullMQ stalled-job
     * detection), which then takes the expired lease over; shorter means faster recovery but more
     * traffic and a risk of false stalls under CPU starvation (a lost lease only stops the slow
     * run's writes: every statement is guarded by it).
     */
    readonly jobLockMs: number,
    /** How long a wait step (control plane ready, nodes ready) may take before it fails. */
    readonly stepTimeoutMs: number,
    /** How long a step keeps retrying retryable provider errors before the operation fails. */
    readonly retryForMs: number = 1_800_000,
    /** The longest pause between two retries (backoff doubles from `backoffMs` up to this, jittered). */
    readonly backoffMaxMs: number = 60_000,
    /** The longest pause between two polls of a wait step (polls start fast and slow down to this). */
    readonly waitPollMaxMs: number = 5_000,
    /** Test hook (NODE_ENV=test only): points at which the worker kills itself, e.g. `cancel:compensated`. */
    readonly crashAt: readonly string[] = [],
    /**
     * How long a stopping worker waits for the steps in flight; runs hand their operation back at
     * their next step boundary, and what is still running after this is left to the lease expiry.
     * The Helm chart's terminationGracePeriodSeconds is longer (deploy/helm, checked by a test).
     */
    readonly shutdownGraceMs: number = 25_000,
    /**
     * How long a node drain of an upgrade may stay unfinished (a PodDisruptionBudget that allows no
     * eviction) before the operation pauses as `needs_attention`; the drain itself goes on.
     */
    readonly drainTimeoutMs: number = 900_000,
  ) {}
}

/** Customer webhooks. */
export class WebhookConfig {
  constructor(
    /** Accept `http://` endpoint URLs (development and tests); otherwise `https://` only. */
    readonly allowPlainHttp: boolean,
    /**
     * Deliver to loopback and private addresses (development and tests). Off in production: a
     * customer's endpoint must not reach the provider's own network (server-side request forgery).
     */
    readonly allowPrivateNetworks: boolean = false,
    /** Events, and the log of their deliveries, are deleted this many days after they happened. */
    readonly eventRetentionDays: number = 90,
  ) {}
}

/** Staff sign-in through the provider's OIDC identity provider, when configured. */
export interface OidcSettings {
  issuer: string;
  audience: string;
  jwksUrl: string;
  roleClaim: string;
}

export class AuthConfig {
  constructor(
    readonly oidc: OidcSettings | undefined,
    readonly rateLimitPerMinute: number,
    /** Failed authentications one source address may make a minute before it gets 429s. */
    readonly authFailuresPerMinute = 30,
    /** Live (unrevoked, unexpired) API tokens an organisation may hold. */
    readonly tokensPerOrganization = 100,
    /** How long a staff queue-board session cookie lives (docs/observability.md). */
    readonly boardSessionTtlSeconds = 900,
  ) {}
}

/** The SLA monitor's prober. */
export class SlaMonitorConfig {
  constructor(
    readonly probeIntervalMs: number,
    readonly probeTimeoutMs: number,
    readonly concurrency: number,
    readonly flushIntervalMs: number,
    readonly rawProbeRetentionMs: number,
    /** This prober's vantage point (e.g. zrh, fra); replicas of one vantage share the clusters. */
    readonly vantage: string,
    /**
     * Consecutive down minutes after which a `running` cluster reads `degraded` (docs/sla.md,
     * "Cluster status"): longer than a blip, shorter than the 5-minute downtime period.
     */
    readonly degradedAfterMinutes = 3,
  ) {}
}

/**
 * Time as every process sees it (docs/sla.md, "Demos and tests with a faster clock"). At speed 1
 * it is the system clock; faster, it runs `speed` times real time from `origin`, the same instant
 * for every process of a deployment, so the API, the workers and the monitor agree on "now".
 */
export class ClockConfig {
  constructor(
    readonly speed: number,
    readonly origin: Date | undefined,
  ) {}
}

export interface CapstanConfig {
  environment: 'development' | 'test' | 'production';
  http: HttpConfig;
  database: DatabaseConfig;
  redis: RedisConfig;
  log: LogConfig;
  secrets: SecretsConfig;
  provider: ProviderConfig;
  auth: AuthConfig;
  engine: EngineConfig;
  webhooks: WebhookConfig;
  slaMonitor: SlaMonitorConfig;
  rke2: Rke2Config;
  gke: GkeConfig;
  /** Absent in configs built by hand (tests): the system clock. */
  clock?: ClockConfig;
}

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${setting} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; throws a ConfigError naming the first bad setting. */
export function loadConfig(env: Record<string, string | undefined>): CapstanConfig {
  // Blank values count as unset, as in most twelve-factor tooling.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = environmentSchema.safeParse(present);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const setting = String(issue.path[0] ?? 'environment');
    const got = present[setting];
    const shown = got === undefined ? 'is not set' : `${issue.message} (got "${redact(setting, got)}")`;
    throw new ConfigError(setting, got === undefined ? `is required: ${shown}` : shown);
  }
  const e = result.data;
  const oidcSet = [e.OIDC_ISSUER, e.OIDC_AUDIENCE, e.OIDC_JWKS_URL].filter(Boolean).length;
  if (oidcSet > 0 && oidcSet < 3) {
    const missing = (['OIDC_ISSUER', 'OIDC_AUDIENCE', 'OIDC_JWKS_URL'] as const).find((k) => !e[k])!;
    throw new ConfigError(missing, 'is required when any OIDC_* setting is set');
  }
  // Processes started at different moments must agree on simulated time: an explicit origin.
  if (e.CLOCK_SPEED !== 1 && !e.CLOCK_ORIGIN)
    throw new ConfigError('CLOCK_ORIGIN', 'is required when CLOCK_SPEED is not 1 (the same instant for every process)');
  return {
    environment: e.NODE_ENV,
    http: new HttpConfig(
      e.HOST,
      e.PORT,
      e.WORKER_PORT,
      e.SLA_MONITOR_PORT,
      e.PUBLIC_URL ?? `http://${displayHost(e.HOST)}:${e.PORT}`,
      e.METRICS_TOKEN,
      e.METRICS_ALLOWED_NETWORKS,
      e.IDEMPOTENCY_LEASE_MS,
    ),
    database: new DatabaseConfig(e.DATABASE_URL, e.DATABASE_POOL_SIZE, e.DATABASE_PREPARED_STATEMENTS),
    redis: new RedisConfig(e.REDIS_URL, e.REDIS_PREFIX),
    log: new LogConfig(e.LOG_LEVEL, e.LOG_PRETTY),
    secrets: new SecretsConfig(e.SECRETS_KEYS),
    provider: new ProviderConfig(e.PROVIDER, e.SIMULATOR_URL, e.SIMULATOR_API_TOKEN),
    rke2: new Rke2Config(
      e.RKE2_MANAGEMENT_KUBECONFIG,
      e.RKE2_NAMESPACE,
      e.RKE2_INFRASTRUCTURE_TEMPLATE_API_VERSION,
      e.RKE2_INFRASTRUCTURE_TEMPLATE_KIND,
      e.RKE2_INFRASTRUCTURE_CLUSTER_KIND,
      e.RKE2_INFRASTRUCTURE_MACHINE_SPEC,
      e.RKE2_CONTROL_PLANE_REPLICAS,
      e.RKE2_CONTROL_PLANE_MACHINE_TYPE,
      e.RKE2_REQUEST_TIMEOUT_MS,
      e.RKE2_ETCD_S3_BUCKET
        ? {
            endpoint: e.RKE2_ETCD_S3_ENDPOINT,
            bucket: e.RKE2_ETCD_S3_BUCKET,
            ...(e.RKE2_ETCD_S3_FOLDER ? { folder: e.RKE2_ETCD_S3_FOLDER } : {}),
            ...(e.RKE2_ETCD_S3_REGION ? { region: e.RKE2_ETCD_S3_REGION } : {}),
            ...(e.RKE2_ETCD_S3_CREDENTIALS_SECRET ? { credentialsSecret: e.RKE2_ETCD_S3_CREDENTIALS_SECRET } : {}),
          }
        : null,
    ),
    gke: new GkeConfig(
      e.GKE_PROJECT,
      e.GKE_API_ENDPOINT.replace(/\/$/, ''),
      e.GKE_TOKEN_URL,
      e.GKE_CLIENT_SECRET,
      e.GKE_ACCESS_TOKEN,
      e.GKE_RELEASE_CHANNEL,
      e.GKE_LOCATIONS ?? {},
      e.GKE_NODE_ZONES ?? {},
      e.GKE_TLS_SERVER_NAME_FROM_DNS_ENDPOINT,
      e.GKE_REQUEST_TIMEOUT_MS,
      e.GKE_BACKUP_API_ENDPOINT.replace(/\/$/, ''),
      e.GKE_DATABASE_ENCRYPTION_KEY ?? null,
      e.GKE_DRIFT_CHECK_MINUTES,
    ),
    slaMonitor: new SlaMonitorConfig(
      e.SLA_PROBE_INTERVAL_MS,
      e.SLA_PROBE_TIMEOUT_MS,
      e.SLA_PROBE_CONCURRENCY,
      e.SLA_FLUSH_INTERVAL_MS,
      e.SLA_RAW_PROBE_RETENTION_MS,
      e.SLA_VANTAGE,
      e.SLA_DEGRADED_AFTER_MINUTES,
    ),
    engine: new EngineConfig(
      e.WORKER_CONCURRENCY,
      e.OPERATION_MAX_ATTEMPTS,
      e.OPERATION_BACKOFF_MS,
      e.RECONCILE_INTERVAL_MS,
      e.JOB_LOCK_MS,
      e.STEP_TIMEOUT_MS,
      e.OPERATION_RETRY_FOR_MS,
      e.OPERATION_BACKOFF_MAX_MS,
      e.WAIT_POLL_MAX_MS,
      e.NODE_ENV === 'test' ? e.CAPSTAN_TEST_CRASH_AT.split(',').filter(Boolean) : [],
      e.WORKER_SHUTDOWN_GRACE_MS,
      e.UPGRADE_DRAIN_TIMEOUT_MS,
    ),
    webhooks: new WebhookConfig(e.WEBHOOKS_ALLOW_PLAIN_HTTP, e.WEBHOOKS_ALLOW_PRIVATE_NETWORKS, e.EVENT_RETENTION_DAYS),
    clock: new ClockConfig(e.CLOCK_SPEED, e.CLOCK_ORIGIN ? new Date(e.CLOCK_ORIGIN) : undefined),
    auth: new AuthConfig(
      e.OIDC_ISSUER ? { issuer: e.OIDC_ISSUER, audience: e.OIDC_AUDIENCE!, jwksUrl: e.OIDC_JWKS_URL!, roleClaim: e.OIDC_ROLE_CLAIM } : undefined,
      e.RATE_LIMIT_PER_MINUTE,
      e.AUTH_FAILURES_PER_MINUTE,
      e.TOKENS_PER_ORGANIZATION,
      e.BOARD_SESSION_TTL_SECONDS,
    ),
  };
}

function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}

/** Settings that may hold credentials are never echoed back, even when malformed. */
function redact(setting: string, value: string): string {
  if (/KEY|SECRET|PASSWORD|TOKEN/.test(setting)) return '<redacted>';
  if (/_URL$/.test(setting)) return value.replace(/\/\/([^@/]*)@/, '//<credentials>@');
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
