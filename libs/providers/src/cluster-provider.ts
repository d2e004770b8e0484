import type { UnreachableCall } from '@capstan/platform';
/**
 * The port every cluster provider implements: the simulated cloud (default), RKE2 through Cluster
 * API objects on a management cluster, and GKE through the Container API v1.
 *
 * Contract for every method:
 * - Objects are named by the caller with stable external names derived from Capstan ids
 *   (`externalClusterName(cl_...)`), so repeating any call after a crash finds what the first
 *   call made instead of making it again. `ensure*` creates when absent and returns the object
 *   either way; `delete*` of an absent object succeeds.
 * - Calls return when the provider has accepted the request, not when the work is done; callers
 *   poll `get*` (the worker's wait steps) so a worker can die during the wait and resume it.
 * - Failures throw ProviderError with `retryable` saying whether trying again may help.
 */
export type ProviderKind = 'simulated' | 'rke2' | 'gke';

export type ProviderObjectStatus = 'provisioning' | 'running' | 'updating' | 'upgrading' | 'error' | 'deleting';

export interface ExternalClusterSpec {
  /** Stable external name, see externalClusterName. */
  name: string;
  /** Which Capstan offering this is: drives e.g. GKE vs Cluster API templates. */
  flavour: 'rke2' | 'gke';
  region: string;
  /** Exact Kubernetes version, e.g. "1.35.4". */
  version: string;
  labels: Record<string, string>;
  /**
   * The owning organisation's id, for drivers that label what they create with it (the RKE2
   * driver's objects on the management cluster). Optional: the cluster's id is in `name`.
   */
  organizationId?: string;
  /**
   * For providers that upgrade clusters themselves (GKE): the release channel (`rapid`, `regular`,
   * `stable`, `extended`) and when upgrades may run. Drivers of other providers ignore both.
   */
  releaseChannel?: string;
  maintenance?: ProviderMaintenancePolicy;
}

/**
 * The cluster settings a provider that upgrades clusters itself must hold (GKE): what a cluster's
 * `update_cluster` operation applies (docs/gke-driver.md, "Settings Capstan keeps in step").
 */
export interface ProviderClusterSettings {
  labels: Record<string, string>;
  /** `rapid`, `regular`, `stable` or `extended`. */
  releaseChannel: string;
  maintenance: ProviderMaintenancePolicy;
}

/** A cluster's maintenance window and exclusions, as Capstan keeps them (docs/upgrades.md). */
export interface ProviderMaintenancePolicy {
  window: { timeZone: string; days: readonly ('MO' | 'TU' | 'WE' | 'TH' | 'FR' | 'SA' | 'SU')[]; startTime: string; durationMinutes: number } | null;
  exclusions: readonly { name: string; startsAt: Date; endsAt: Date; scope: 'no_upgrades' | 'no_minor_upgrades' | 'no_minor_or_node_upgrades' }[];
}

export interface ProviderCluster {
  name: string;
  status: ProviderObjectStatus;
  version: string;
  /** Kubernetes API server URL, once the control plane answers. */
  endpoint: string | null;
  /** PEM of the CA that signs the API server's certificate. */
  caCertificate: string | null;
  /**
   * The TLS server name to send when the endpoint serves many clusters on one address and picks
   * one by SNI (kubeconfig `tls-server-name`); absent when the endpoint's host names the cluster.
   */
  tlsServerName?: string;
}

export interface Taint {
  key: string;
  value: string;
  effect: string;
}

export interface ExternalNodePoolSpec {
  /** Stable external name, see externalNodePoolName. */
  name: string;
  machineType: string;
  /** Desired nodes (for an autoscaling pool, the current target within its bounds). */
  count: number;
  autoscaling: { min: number; max: number } | null;
  version: string;
  labels: Record<string, string>;
  taints: Taint[];
  maxSurge: number;
  maxUnavailable: number;
}

export interface ProviderNode {
  name: string;
  version: string;
  ready: boolean;
  /** Cordoned. */
  unschedulable: boolean;
}

export interface ProviderNodePool {
  name: string;
  status: ProviderObjectStatus;
  count: number;
  version: string;
  nodes: ProviderNode[];
}

export interface ClusterCredentials {
  server: string;
  /**
   * The TLS server name to send (and verify) when it differs from the server URL's host: an
   * endpoint that serves many clusters on one address picks the cluster by it (kubeconfig
   * `tls-server-name`).
   */
  tlsServerName?: string;
  caCertificate: string;
  /** Bearer token for the API server. */
  token: string;
  expiresAt: Date;
}

export interface DrainResult {
  drained: boolean;
  /** What keeps pods from being evicted (PodDisruptionBudgets answering 429), when not drained. */
  blockedBy: { namespace: string; pod: string; podDisruptionBudget: string }[];
}

export interface ClusterObject {
  apiVersion: string;
  kind: string;
  namespace: string | null;
  name: string;
}

export interface Snapshot {
  name: string;
  createdAt: Date;
  sizeBytes: number;
  version: string;
}

export interface Addon {
  name: string;
  version: string;
}

export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code = 'provider_error',
    /**
     * Set when the call got no answer at all: which dependency, so that a request meeting it is
     * answered 503 naming it rather than taken for a database outage (docs/dependency-outages.md).
     */
    readonly unreachable?: UnreachableCall,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/**
 * What the engine's steps call. On the real drivers it is DriverBackedProvider (@capstan/kube):
 * an InfrastructureDriver plus the work inside the cluster. Per-node upgrades, snapshots and the
 * object listing of the simulated cloud are not part of it: Cluster API and GKE upgrade whole
 * pools (InfrastructureDriver.upgradeNodePool), the removed-API scan is TenantKube's, and backups
 * get their own port with the backups issue.
 */
export abstract class ClusterProvider {
  abstract readonly kind: ProviderKind;

  abstract ensureCluster(spec: ExternalClusterSpec): Promise<ProviderCluster>;
  abstract getCluster(name: string): Promise<ProviderCluster | null>;
  abstract deleteCluster(name: string): Promise<void>;

  abstract ensureNodePool(cluster: string, spec: ExternalNodePoolSpec): Promise<ProviderNodePool>;
  abstract getNodePool(cluster: string, pool: string): Promise<ProviderNodePool | null>;
  /** Applies count, autoscaling, labels, taints and surge settings of `spec` to an existing pool. */
  abstract updateNodePool(cluster: string, spec: ExternalNodePoolSpec): Promise<ProviderNodePool>;
  abstract deleteNodePool(cluster: string, pool: string): Promise<void>;

  /** A short-lived credential for the API server (kubeconfigs, the worker's own access). */
  abstract issueCredentials(cluster: string, ttlSeconds: number): Promise<ClusterCredentials>;
  /** Invalidates every credential issued so far for the cluster. */
  abstract revokeCredentials(cluster: string): Promise<void>;

  abstract upgradeControlPlane(cluster: string, version: string): Promise<void>;
  abstract cordonNode(cluster: string, node: string): Promise<void>;
  abstract drainNode(cluster: string, node: string, options: { timeoutSeconds: number; force: boolean }): Promise<DrainResult>;
  abstract uncordonNode(cluster: string, node: string): Promise<void>;

  abstract installAddons(cluster: string, addons: Addon[]): Promise<void>;
  abstract listAddons(cluster: string): Promise<Addon[]>;
}

/** `cl_01j...` -> `capstan-01j...`: DNS-safe, unique, and the same on every retry. */
export function externalClusterName(clusterId: string): string {
  return `capstan-${clusterId.replace(/^cl_/, '')}`;
}

/** `np_01j...` -> `pool-01j...`, unique within its cluster. */
export function externalNodePoolName(nodePoolId: string): string {
  return `pool-${nodePoolId.replace(/^np_/, '')}`;
}
