import type { protos } from '@google-cloud/container';
import { type ClusterSettingDrift, nextWindow } from '@capstan/domain';
import {
  type ExternalNodePoolSpec,
  type ProviderCluster,
  type ProviderClusterSettings,
  type ProviderMaintenancePolicy,
  type ProviderObjectStatus,
  ProviderError,
} from '../cluster-provider';
import type { GkeReleaseChannel } from './gke-settings';

/**
 * Pure translations between Capstan's port and GKE's Container API v1 resources: statuses,
 * requests, the maintenance policy and errors. No I/O, so each rule is unit-tested on its own.
 */
type Cluster = protos.google.container.v1.ICluster;
type NodePool = protos.google.container.v1.INodePool;
type MaintenancePolicy = protos.google.container.v1.IMaintenancePolicy;

/** google.rpc.Code values (as google-gax puts them on errors). */
export const RPC = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const RETRYABLE_CODES = new Set<number>([RPC.UNKNOWN, RPC.DEADLINE_EXCEEDED, RPC.RESOURCE_EXHAUSTED, RPC.ABORTED, RPC.INTERNAL, RPC.UNAVAILABLE]);

export function clusterStatus(status: Cluster['status']): ProviderObjectStatus {
  switch (status) {
    case 'PROVISIONING':
      return 'provisioning';
    case 'RUNNING':
      return 'running';
    case 'RECONCILING':
      return 'updating';
    case 'STOPPING':
      return 'deleting';
    default:
      // ERROR, DEGRADED and anything GKE adds later: not a state Capstan can build on.
      return 'error';
  }
}

export function nodePoolStatus(status: NodePool['status']): ProviderObjectStatus {
  switch (status) {
    case 'PROVISIONING':
      return 'provisioning';
    case 'RUNNING':
      return 'running';
    case 'RECONCILING':
      return 'updating';
    case 'STOPPING':
      return 'deleting';
    default:
      return 'error';
  }
}

/** The cluster as the port reports it; the endpoint only once the control plane is up. */
/**
 * `serverNameFromDnsEndpoint`: the endpoint is shared and picks the cluster by TLS server name,
 * which is the cluster's DNS endpoint (the emulator); the SLA prober and kubeconfigs send it.
 */
export function toProviderCluster(cluster: Cluster, options: { serverNameFromDnsEndpoint?: boolean } = {}): ProviderCluster {
  const status = clusterStatus(cluster.status);
  const serving = status === 'running' || status === 'updating';
  const ca = cluster.masterAuth?.clusterCaCertificate;
  const dns = cluster.controlPlaneEndpointsConfig?.dnsEndpointConfig?.endpoint;
  return {
    name: cluster.name ?? '',
    status,
    version: cluster.currentMasterVersion ?? '',
    endpoint: serving && cluster.endpoint ? `https://${cluster.endpoint}` : null,
    // GKE hands the CA out base64-encoded.
    caCertificate: serving && ca ? Buffer.from(ca, 'base64').toString('utf8') : null,
    ...(options.serverNameFromDnsEndpoint && serving && dns ? { tlsServerName: dns } : {}),
  };
}

const TAINT_EFFECTS: Record<string, 'NO_SCHEDULE' | 'PREFER_NO_SCHEDULE' | 'NO_EXECUTE'> = {
  NoSchedule: 'NO_SCHEDULE',
  PreferNoSchedule: 'PREFER_NO_SCHEDULE',
  NoExecute: 'NO_EXECUTE',
};

export function taintsOf(spec: Pick<ExternalNodePoolSpec, 'taints'>): protos.google.container.v1.INodeTaint[] {
  return spec.taints.map((t) => {
    const effect = TAINT_EFFECTS[t.effect];
    if (!effect) throw new ProviderError(`taint effect ${t.effect} is not one of ${Object.keys(TAINT_EFFECTS).join(', ')}`, false, 'gke_invalid');
    return { key: t.key, value: t.value, effect };
  });
}

/** The node pool GKE is asked to create for a Capstan pool, in one zone so its size is exactly `count`. */
export function nodePoolOf(spec: ExternalNodePoolSpec, zone: string): NodePool {
  return {
    name: spec.name,
    initialNodeCount: spec.count,
    locations: [zone],
    version: spec.version,
    config: { machineType: spec.machineType, labels: { ...spec.labels }, taints: taintsOf(spec) },
    ...(spec.autoscaling ? { autoscaling: { enabled: true, minNodeCount: spec.autoscaling.min, maxNodeCount: spec.autoscaling.max } } : {}),
    upgradeSettings: { maxSurge: spec.maxSurge, maxUnavailable: spec.maxUnavailable },
    // Release channels require both; Capstan steers GKE's own upgrades with the maintenance policy.
    management: { autoUpgrade: true, autoRepair: true },
  };
}

/** GCE label rules: lower-case keys starting with a letter, values of [a-z0-9_-], 63 characters each. */
export function resourceLabelsOf(labels: Record<string, string>): Record<string, string> {
  const clean = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '_')
      .slice(0, 63);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    let k = clean(key);
    if (!/^[a-z]/.test(k)) k = `l${k}`.slice(0, 63);
    out[k] = clean(value);
  }
  return out;
}

const DAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'] as const;
const SCOPES = { no_upgrades: 'NO_UPGRADES', no_minor_upgrades: 'NO_MINOR_UPGRADES', no_minor_or_node_upgrades: 'NO_MINOR_OR_NODE_UPGRADES' } as const;

/**
 * Capstan's window (local days and time in an IANA zone) as GKE's recurring window (a first
 * occurrence in UTC plus an RRULE of UTC days). The first occurrence comes from the domain's own
 * occurrence rules; days move with it when the local start falls on another UTC day. GKE repeats
 * the UTC time, so across a DST change the window keeps its UTC hour, a shift GKE has too.
 */
export function maintenancePolicyOf(policy: ProviderMaintenancePolicy, now: Date): MaintenancePolicy {
  const exclusions = Object.fromEntries(
    policy.exclusions.map((e) => [
      exclusionName(e.name),
      { startTime: timestamp(e.startsAt), endTime: timestamp(e.endsAt), maintenanceExclusionOptions: { scope: SCOPES[e.scope] } },
    ]),
  );
  const window = policy.window;
  const first = window ? nextWindow({ ...window, days: [...window.days] }, now) : null;
  if (!window || !first) return { window: { maintenanceExclusions: exclusions } };
  const localDay = new Intl.DateTimeFormat('en-US', { timeZone: window.timeZone, weekday: 'short' }).format(first.startsAt).slice(0, 2).toUpperCase();
  const shift = (first.startsAt.getUTCDay() - DAYS.indexOf(localDay as (typeof DAYS)[number]) + 7) % 7;
  const days = window.days.map((d) => DAYS[(DAYS.indexOf(d) + shift) % 7]);
  return {
    window: {
      recurringWindow: {
        window: { startTime: timestamp(first.startsAt), endTime: timestamp(first.endsAt) },
        recurrence: `FREQ=WEEKLY;BYDAY=${days.join(',')}`,
      },
      maintenanceExclusions: exclusions,
    },
  };
}

const DAY_MS = 86_400_000;

/**
 * Whether GKE's policy already says what `desired` (from `maintenancePolicyOf`) says: the same
 * weekly days, the same UTC time of day and length, and the same exclusions. The first
 * occurrence itself is not compared: it is only the anchor GKE repeats, and it moves every week.
 */
export function samePolicy(current: MaintenancePolicy | null | undefined, desired: MaintenancePolicy): boolean {
  const a = current?.window;
  const b = desired.window;
  const recurring = (w: typeof a) => {
    const r = w?.recurringWindow;
    if (!r?.window) return null;
    const start = millisOf(r.window.startTime);
    const end = millisOf(r.window.endTime);
    return `${r.recurrence ?? ''}@${((start % DAY_MS) + DAY_MS) % DAY_MS}+${end - start}`;
  };
  if (recurring(a) !== recurring(b)) return false;
  const exclusions = (w: typeof a) =>
    Object.entries(w?.maintenanceExclusions ?? {})
      .map(([name, e]) => `${name}:${millisOf(e.startTime)}-${millisOf(e.endTime)}:${String(e.maintenanceExclusionOptions?.scope ?? 'NO_UPGRADES')}`)
      .sort()
      .join('|');
  return exclusions(a) === exclusions(b);
}

/** Capstan's settings in GKE's form: what `applyClusterSettings` sends, and what the drift check compares GKE's with. */
export interface GkeClusterSettings {
  channel: GkeReleaseChannel;
  policy: MaintenancePolicy;
  labels: Record<string, string>;
}

/** The release channel asked for, else the installation's (GKE_RELEASE_CHANNEL). */
export function channelOf(requested: string | undefined, fallback: GkeReleaseChannel): GkeReleaseChannel {
  const upper = requested?.toUpperCase();
  return upper === 'RAPID' || upper === 'REGULAR' || upper === 'STABLE' || upper === 'EXTENDED' ? upper : fallback;
}

/** The cluster's labels as GKE resource labels, marked as Capstan's. */
export function clusterLabelsOf(labels: Record<string, string>): Record<string, string> {
  return resourceLabelsOf({ ...labels, 'capstan-managed': 'true' });
}

export function gkeClusterSettingsOf(settings: ProviderClusterSettings, defaultChannel: GkeReleaseChannel, now: Date): GkeClusterSettings {
  return {
    channel: channelOf(settings.releaseChannel, defaultChannel),
    policy: maintenancePolicyOf(settings.maintenance, now),
    labels: clusterLabelsOf(settings.labels),
  };
}

/**
 * The one comparison of GKE's copy of a cluster's settings with Capstan's (docs/gke-driver.md,
 * "Settings Capstan keeps in step", "Drift"): each setting GKE holds differently, in the order
 * `applyClusterSettings` sends them (channel, maintenance policy, labels; GKE runs one operation
 * per cluster at a time). It sends the first; the drift check reports them all. Empty: in step.
 */
export function settingsDrift(cluster: Cluster, desired: GkeClusterSettings): ClusterSettingDrift[] {
  const drift: ClusterSettingDrift[] = [];
  const channel = String(cluster.releaseChannel?.channel ?? '');
  if (channel !== desired.channel) drift.push({ setting: 'release_channel', provider: channel || 'none', capstan: desired.channel });
  if (!samePolicy(cluster.maintenancePolicy, desired.policy))
    drift.push({ setting: 'maintenance_policy', provider: describePolicy(cluster.maintenancePolicy), capstan: describePolicy(desired.policy) });
  const labels = cluster.resourceLabels ?? {};
  if (!sameRecord(labels, desired.labels)) drift.push({ setting: 'labels', provider: describeLabels(labels), capstan: describeLabels(desired.labels) });
  return drift;
}

export function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** A policy for people: `window FR,SA 23:30 UTC for 360 min; exclusions freeze (NO_UPGRADES, 2027-03-01T00:00:00.000Z to ...)`. */
function describePolicy(policy: MaintenancePolicy | null | undefined): string {
  const recurring = policy?.window?.recurringWindow;
  let window = 'no window';
  if (recurring?.window) {
    const start = millisOf(recurring.window.startTime);
    const minutes = Math.round((millisOf(recurring.window.endTime) - start) / 60_000);
    const days = /BYDAY=([A-Z,]+)/.exec(recurring.recurrence ?? '')?.[1] ?? recurring.recurrence ?? '';
    const at = Number.isNaN(start) ? '?' : isoOf(start).slice(11, 16);
    window = `window ${days} ${at} UTC for ${minutes} min`;
  }
  const exclusions = Object.entries(policy?.window?.maintenanceExclusions ?? {})
    .map(([name, e]) => {
      const scope = String(e.maintenanceExclusionOptions?.scope ?? 'NO_UPGRADES');
      return `${name} (${scope}, ${isoOf(millisOf(e.startTime))} to ${isoOf(millisOf(e.endTime))})`;
    })
    .sort();
  return `${window}; ${exclusions.length > 0 ? `exclusions ${exclusions.join(', ')}` : 'no exclusions'}`;
}

/** A time GKE may have left unset (NaN) would throw in toISOString: shown as `?`. */
function isoOf(ms: number): string {
  return Number.isNaN(ms) ? '?' : new Date(ms).toISOString();
}

function describeLabels(labels: Record<string, string>): string {
  const pairs = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  return pairs.length > 0 ? pairs.join(', ') : 'none';
}

/** A protobuf Timestamp as the client hands it over (an RFC 3339 string, or seconds and nanos) in ms. */
export function millisOf(value: protos.google.protobuf.ITimestamp | string | null | undefined): number {
  if (value === null || value === undefined) return Number.NaN;
  if (typeof value === 'string') return Date.parse(value);
  return Number(String(value.seconds ?? 0)) * 1000 + Math.floor((value.nanos ?? 0) / 1_000_000);
}

function exclusionName(name: string): string {
  return name.replace(/[^-a-zA-Z0-9_.]/g, '-').slice(0, 63) || 'exclusion';
}

function timestamp(date: Date): protos.google.protobuf.ITimestamp {
  const ms = date.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

interface GaxLikeError {
  code?: number;
  message?: string;
  details?: string;
}

export function rpcCode(error: unknown): number | undefined {
  const code = (error as GaxLikeError | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Another operation holds the cluster: GKE says FAILED_PRECONDITION, and it will pass. */
export function isIncompatibleOperation(error: unknown): boolean {
  return rpcCode(error) === RPC.FAILED_PRECONDITION && /incompatible operation/i.test((error as GaxLikeError).message ?? '');
}

/**
 * GKE's answer as a ProviderError: temporary conditions (unavailable, throttled, aborted, internal,
 * a busy cluster, no answer at all) may succeed when tried again; refusals of the request will not.
 */
export function toProviderError(error: unknown, doing: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const code = rpcCode(error);
  const message = `GKE ${doing}: ${(error as Error)?.message ?? String(error)}`;
  // No RPC status at all: GKE did not answer, which a request meets as the GKE API being down.
  if (code === undefined) return new ProviderError(message, true, 'gke_unreachable', { dependency: 'gke' });
  const retryable = RETRYABLE_CODES.has(code) || isIncompatibleOperation(error);
  const name =
    Object.entries(RPC)
      .find(([, value]) => value === code)?.[0]
      ?.toLowerCase() ?? `code_${code}`;
  return new ProviderError(message, retryable, `gke_${name}`);
}
