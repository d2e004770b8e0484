import { clusterRoutes, type z } from '@capstan/contracts';
import { assertWindowKeepsAvailability, ConflictError, type Provider } from '@capstan/domain';
import { presentOperation } from '@capstan/operations';
import { Clock, type TransactionOf } from '@capstan/platform';
import { changesBetween } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { ClusterUnitOfWork, type Requester } from '../cluster-change';
import { presentCluster } from '../cluster-view';
import { ClustersRepository } from '../clusters.repository';
import { updateClusterSettings } from '../cluster-writes';
import { assertEtag, audited } from './change-rows';
import { startSettingsUpdate } from './settings-update';
import { checkedWindow } from './window-rules';

export type UpdateClusterInput = z.infer<typeof clusterRoutes.updateClusterBody>;

type AuditedCluster = ReturnType<typeof audited>;
type ProviderSetting = 'labels' | 'releaseChannel' | 'maintenanceWindow';

/**
 * The settings each provider holds a copy of and applies itself (docs/gke-driver.md, "Settings
 * Capstan keeps in step"): GKE upgrades clusters by its release channel, inside its maintenance
 * policy, and carries the labels as resource labels. Capstan drives RKE2's upgrades itself, so an
 * RKE2 cluster's settings are Capstan's alone.
 */
const PROVIDER_SETTINGS: Readonly<Record<Provider, readonly ProviderSetting[]>> = Object.freeze({
  gke: ['labels', 'releaseChannel', 'maintenanceWindow'],
  rke2: [],
});

/** The settings a change moved that the cluster's provider must apply (none: the change is Capstan's alone). */
export function settingsForProvider(provider: Provider, before: AuditedCluster, after: AuditedCluster): ProviderSetting[] {
  return PROVIDER_SETTINGS[provider].filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
}

/** What PATCH answers: the cluster, and the operation applying the change at the provider when it needs one. */
export type ClusterUpdate = { cluster: ReturnType<typeof presentCluster>; operation: ReturnType<typeof presentOperation> | null };

/**
 * PATCH /v1/clusters/{id}: labels, flags, release channel and maintenance window, under If-Match.
 * A change the provider must apply (a GKE cluster's channel, window or labels) is an
 * `update_cluster` operation, written in the same transaction as the settings, under the
 * lifecycle's rules (another operation on the cluster is a 409); the cluster is `updating` until
 * the operation has applied it. Any other change is Capstan's alone and answers at once.
 */
@Injectable()
export class UpdateCluster {
  constructor(
    private readonly unitOfWork: ClusterUnitOfWork,
    private readonly clusters: ClustersRepository,
    private readonly clock: Clock,
  ) {}

  async execute(requester: Requester, id: string, ifMatch: string | undefined, input: UpdateClusterInput): Promise<ClusterUpdate> {
    return this.unitOfWork.run(requester, { clusterId: id }, async ({ trx, cluster, active, enqueue, audit }) => {
      const before = cluster!;
      assertEtag('cluster', before.id, before.resource_version, ifMatch);
      if (before.status === 'deleting') throw new ConflictError('cluster-state-conflict', `cluster ${id} is being deleted; it can no longer be changed`);
      const window = checkedWindow(before.provider, input.maintenance_window, this.clock.now());
      if (before.provider === 'gke' && window !== undefined) await this.assertExclusionsStillFit(requester.organizationId, id, window, trx);
      await updateClusterSettings(trx, id, { ...input, maintenance_window: window });
      let after = await this.clusters.get(requester.organizationId, id, trx);
      const forProvider = settingsForProvider(before.provider, audited(before), audited(after));
      let operation = null;
      if (forProvider.length > 0) {
        // Throws before the commit: the settings written above go with the refused change.
        operation = await startSettingsUpdate({ trx, active, enqueue }, before, forProvider);
        after = await this.clusters.get(requester.organizationId, id, trx);
      }
      await audit({
        action: 'cluster.update',
        target: { type: 'cluster', id },
        changes: changesBetween(audited(before), audited(after), ['labels', 'autoUpgrade', 'deletionProtection', 'releaseChannel', 'maintenanceWindow']),
      });
      return { cluster: presentCluster(after), operation: operation && presentOperation(operation) };
    });
  }

  /** GKE refuses a policy whose window leaves its no_upgrades exclusions too little maintenance time: so does Capstan, first. */
  private async assertExclusionsStillFit(organizationId: string, id: string, window: UpdateClusterInput['maintenance_window'], trx: TransactionOf) {
    const exclusions = await this.clusters.maintenanceExclusions(organizationId, id, trx);
    const spec = window && { timeZone: window.time_zone, days: window.days, startTime: window.start_time, durationMinutes: window.duration_minutes };
    assertWindowKeepsAvailability(
      spec ?? null,
      exclusions.map((e) => ({ name: e.name, scope: e.scope, startsAt: e.starts_at, endsAt: e.ends_at })),
      this.clock.now(),
    );
  }
}
