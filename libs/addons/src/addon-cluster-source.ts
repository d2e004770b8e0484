import type { ClusterStatus, Provider } from '@capstan/domain';
import type { Actor, AuditEntry } from '@capstan/tenancy';
import type { UnitOfWork } from '@capstan/platform';

/** What libs/addons needs to know about a cluster. */
export interface AddonCluster {
  id: string;
  organizationId: string;
  provider: Provider;
  status: ClusterStatus;
  /** The control plane's version ("1.35.4"): which catalogue release goes with it. */
  version: string;
}

/** Who asks for a change, and the Idempotency-Key their request carried. */
export interface AddonRequester {
  organizationId: string;
  actor: Actor;
  idempotencyKey?: string;
}

/** What an add-on change writes under the cluster's lock, besides its own rows. */
export interface PlannedAddonChange {
  steps: readonly string[];
  params: Record<string, unknown>;
  audit: Pick<AuditEntry, 'action' | 'target' | 'changes'>;
}

/**
 * The port through which libs/addons reads clusters and starts an operation on one, both owned by
 * libs/clusters. Features do not import each other (docs/architecture.md, "Feature-to-feature
 * calls"), so the API's composition root binds it to the public functions of @capstan/clusters.
 */
export abstract class AddonClusterSource {
  /** The caller's cluster; another organisation's answers NotFoundError (404). */
  abstract cluster(organizationId: string, clusterId: string): Promise<AddonCluster>;
  /**
   * Starts an `update_addons` operation under the cluster's lock (state machine and one mutating
   * operation per cluster checked first); `change` writes the add-on's rows in the same transaction.
   */
  abstract startChange(
    requester: AddonRequester,
    clusterId: string,
    change: (trx: UnitOfWork, cluster: AddonCluster) => Promise<PlannedAddonChange>,
  ): Promise<{ operation: unknown }>;
}
