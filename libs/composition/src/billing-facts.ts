import { ReadBackupStorage } from '@capstan/backups';
import { BillingFactsSource, type SlaCreditFact } from '@capstan/billing';
import { ReadMeteredClusters } from '@capstan/clusters';
import type { RecordedCluster } from '@capstan/domain';
import { OperationHistory } from '@capstan/operations';
import { SlaReportsService } from '@capstan/sla';
import { Injectable } from '@nestjs/common';

/**
 * libs/billing's view of clusters, their operations and SLA credits, answered by the public
 * functions of @capstan/clusters, @capstan/operations and @capstan/sla (docs/architecture.md,
 * "Feature-to-feature calls"). Composition only: the metering rules live in libs/domain/billing.
 */
@Injectable()
export class BillingFacts extends BillingFactsSource {
  constructor(
    private readonly clustersRead: ReadMeteredClusters,
    private readonly history: OperationHistory,
    private readonly sla: SlaReportsService,
    private readonly storage: ReadBackupStorage,
  ) {
    super();
  }

  async clusters(range: { start: Date; end: Date }, organizationId?: string): Promise<RecordedCluster[]> {
    const clusters = await this.clustersRead.presentIn(range, organizationId);
    const operations = await this.history.sizingOperations(clusters.map((c) => c.id));
    const byCluster = new Map<string, RecordedCluster['operations']>();
    for (const op of operations) {
      byCluster.set(op.clusterId, [
        ...(byCluster.get(op.clusterId) ?? []),
        { type: op.type, status: op.status, targetId: op.targetId, finishedAt: op.finishedAt, previousNodeCount: op.previousNodeCount, addon: op.addon },
      ]);
    }
    const backups = new Map<string, RecordedCluster['backups']>();
    for (const b of await this.storage.of(clusters.map((c) => c.id))) backups.set(b.clusterId, [...(backups.get(b.clusterId) ?? []), b]);
    return clusters.map((c) => ({ ...c, backups: backups.get(c.id) ?? [], operations: byCluster.get(c.id) ?? [] }));
  }

  async slaCredits(month: string, organizationId?: string): Promise<SlaCreditFact[]> {
    const { items } = await this.sla.credits(month, undefined, { organizationId });
    return items.map((r) => ({
      organizationId: r.cluster.organizationId,
      clusterId: r.cluster.id,
      clusterName: r.cluster.name,
      provider: r.cluster.provider,
      month: r.report.month,
      slaVersion: r.report.slaVersion,
      targetPercent: r.report.targetPercent,
      availabilityPercent: r.report.availabilityPercent,
      countedDowntimeMinutes: r.report.countedDowntimeMinutes,
      creditPercent: r.report.credit.percent,
      final: r.final,
    }));
  }
}
