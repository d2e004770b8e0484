import type { ClusterSettingDrift } from '@capstan/domain';
import type { ExternalClusterSpec, ExternalNodePoolSpec, ProviderCluster, ProviderClusterSettings, ProviderNodePool } from './cluster-provider';

/**
 * The infrastructure port: what differs between the provider's own RKE2 (Cluster API + CAPRKE2
 * objects on a management cluster) and Managed GKE (Container API v1). Work *inside* a tenant
 * cluster (cordon, drain, the removed-API scan, add-ons, customer credentials) is not here: it is
 * the same Kubernetes API on both and lives in `@capstan/kube`.
 *
 * The contract of ClusterProvider holds for every method: names derive from Capstan ids
 * (`externalClusterName`, `externalNodePoolName`) so a call repeated after a crash finds what the
 * first one made; `ensure*` creates when absent; `delete*` of an absent object succeeds; calls
 * return once the provider accepted the request; failures throw ProviderError with `retryable`.
 */
export type InfrastructureProvider = 'rke2' | 'gke';

/**
 * A long provider-side change (an upgrade, a resize GKE runs as an operation, a CAPI rollout),
 * JSON-serialisable so a step checkpoints it and a restarted worker resumes following the same
 * change instead of starting another one.
 */
export interface ProviderOperation {
  provider: InfrastructureProvider;
  /** Driver-specific: `gke-operation` (name = GKE operation name), `capi-rollout` (name = object). */
  kind: string;
  name: string;
  /** What it changes (cluster or node pool external name) and to which version, for messages. */
  target: string;
  version?: string;
}

export interface ProviderOperationStatus {
  done: boolean;
  /** Set when it ended in failure; `retryable` says whether asking again may help. */
  error?: { message: string; retryable: boolean; code?: string };
  /** A short human line: "2 of 3 machines updated". */
  progress?: string;
  /** Node by node, where the provider names them (a Cluster API rollout's machines). */
  nodes?: RolloutNode[];
  /** Drains the provider has started and not finished, with what holds each one up. */
  drains?: PendingDrain[];
}

/**
 * One machine of a rollout: `waiting` (old, not replaced yet), `draining` (being deleted, its node
 * cordoned and drained), `removing` (drained, being deleted), `joining` (new, not ready yet),
 * `ready` (new and ready).
 */
export interface RolloutNode {
  machine: string;
  node: string | null;
  version: string | null;
  state: 'waiting' | 'draining' | 'removing' | 'joining' | 'ready';
}

/** A node drain that has not finished: since when, and the pods (and their budgets) still on it. */
export interface PendingDrain {
  machine: string;
  node: string | null;
  /** ISO time the provider started draining. */
  since: string;
  /** Pods still on the node, each with why it is still there. */
  pods: { namespace: string; name: string; reason: string }[];
  /** PodDisruptionBudgets that refused an eviction (namespace of the pod they protect). */
  budgets: { namespace: string; name: string }[];
  /** The provider's own words. */
  message: string;
}

/** How Capstan itself reaches a cluster's API server (never handed to customers as is). */
export interface ClusterAccess {
  server: string;
  /** TLS server name to send and verify when it differs from the URL's host (kubeconfig `tls-server-name`). */
  tlsServerName?: string;
  caCertificate: string;
  token: string;
  /** When the token stops working; null = until revoked. */
  expiresAt: Date | null;
}

export abstract class InfrastructureDriver {
  abstract readonly provider: InfrastructureProvider;
  /**
   * The provider's own node pool that is none of the customer's (GKE's `capstan-system`, which
   * GKE needs to start a cluster), or null. An upgrade moves it too, after the customer's pools.
   */
  abstract readonly systemNodePool: string | null;

  abstract ensureCluster(spec: ExternalClusterSpec): Promise<ProviderCluster>;
  abstract getCluster(name: string): Promise<ProviderCluster | null>;
  abstract deleteCluster(name: string): Promise<void>;

  abstract ensureNodePool(cluster: string, spec: ExternalNodePoolSpec): Promise<ProviderNodePool>;
  abstract getNodePool(cluster: string, pool: string): Promise<ProviderNodePool | null>;
  /** Applies count, autoscaling, labels, taints and surge settings of `spec` (not its version). */
  abstract updateNodePool(cluster: string, spec: ExternalNodePoolSpec): Promise<ProviderNodePool>;
  abstract deleteNodePool(cluster: string, pool: string): Promise<void>;

  /**
   * Starts bringing the provider's copy of the cluster's settings (labels, release channel,
   * maintenance window and exclusions) to `settings`: one change per call, the first that differs,
   * read from the provider each time, so a repeated call (a lost answer, a restarted worker)
   * follows or finds what the first one did. Returns the change's operation, or null once nothing
   * differs. A provider whose upgrades Capstan drives itself (RKE2) holds none of them: null.
   */
  abstract applyClusterSettings(cluster: string, settings: ProviderClusterSettings): Promise<ProviderOperation | null>;

  /**
   * Read only: every one of the settings `applyClusterSettings` keeps in step that the provider
   * holds differently from `settings`, by the same comparison (so a drift found here is exactly
   * what `applyClusterSettings` would send), in the order it would send them. Empty when nothing
   * differs, and always for a provider that holds none of them (RKE2).
   */
  abstract clusterSettingsDrift(cluster: string, settings: ProviderClusterSettings): Promise<ClusterSettingDrift[]>;

  /** Capstan's own (admin) access to the cluster's API server. */
  abstract adminAccess(cluster: string): Promise<ClusterAccess>;

  /** Starts moving the control plane to `version` (one minor at most: the caller plans the hops). */
  abstract upgradeControlPlane(cluster: string, version: string): Promise<ProviderOperation>;
  /** Starts moving a node pool's nodes to `version`; the provider replaces them by its surge settings. */
  abstract upgradeNodePool(cluster: string, pool: string, version: string): Promise<ProviderOperation>;
  /**
   * Starts moving a node pool back to the version it ran before a failed or stopped upgrade (one
   * minor down at most, within the skew the control plane allows); the control plane stays.
   */
  abstract rollbackNodePool(cluster: string, pool: string, version: string): Promise<ProviderOperation>;
  abstract getOperation(operation: ProviderOperation): Promise<ProviderOperationStatus>;
}

/** Resolves the driver for a cluster from its `provider`: one installation sells both. */
export abstract class DriverRegistry {
  abstract driverFor(provider: InfrastructureProvider): InfrastructureDriver;
}
