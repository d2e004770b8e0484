import { type ClusterSettingDrift, ConflictError, driftCorrectionAllowed, driftReason, NotFoundError } from '@capstan/domain';
import { EventsService } from '@capstan/events';
import { ClusterBackends } from '@capstan/kube';
import { OperationHistory, OperationsRepository } from '@capstan/operations';
import { Clock, Database, Metrics, ProviderConfig } from '@capstan/platform';
import { externalClusterName } from '@capstan/providers';
import type { Actor } from '@capstan/tenancy';
import { Injectable, Logger } from '@nestjs/common';
import { ClusterUnitOfWork } from '../cluster-change';
import { ClustersRepository } from '../clusters.repository';
import { providerSettingsOf } from '../operation-steps/provider-settings';
import { startSettingsUpdate } from '../use-cases/settings-update';

/** Who starts a drift correction: the operation's requester and the audit event's actor. */
export const GKE_DRIFT_CHECK_ACTOR: Actor = Object.freeze({ type: 'system', id: 'gke-drift-check' });

/** The statuses in which a cluster takes an `update_cluster` (the lifecycle's rules), so the only ones checked. */
const CHECKED_STATUSES: readonly string[] = ['running', 'degraded'];
/** Those, and the ones an operation sets while it runs: such a cluster is counted busy and looked at next pass. */
const WALKED_STATUSES = ['running', 'degraded', 'updating', 'upgrading', 'restoring'] as const;
/** Clusters read per page of the walk through the fleet. */
const PAGE = 200;

/** What one pass found, cluster by cluster (each cluster counts once). */
export interface DriftPassResult {
  /** GKE holds what Capstan holds. */
  inStep: number;
  /** Drift found and an `update_cluster` started to correct it. */
  corrected: number;
  /** Another operation holds the cluster: looked at again next pass. */
  busy: number;
  /** Drift found, but the last correction failed for good less than a day ago. */
  heldBack: number;
  /** GKE could not be asked (unreachable, refused): logged, nothing marked. */
  failed: number;
  /** What became of each cluster walked, by id. */
  clusters: Record<string, DriftOutcome>;
}

export type DriftOutcome = 'in_step' | 'corrected' | 'busy' | 'held_back' | 'failed';
const RESULT_FIELD: Readonly<Record<DriftOutcome, Exclude<keyof DriftPassResult, 'clusters'>>> = {
  in_step: 'inStep',
  corrected: 'corrected',
  busy: 'busy',
  held_back: 'heldBack',
  failed: 'failed',
};

/**
 * The GKE drift check (docs/gke-driver.md, "Drift"): GKE holds a copy of each cluster's release
 * channel, maintenance policy and labels, and anyone with access to the project can change it
 * there. Each pass compares every `running` or `degraded` GKE cluster that no operation holds
 * with Capstan's rows (read only: `InfrastructureDriver.clusterSettingsDrift`, the comparison
 * `applyClusterSettings` makes) and, where they differ, starts the `update_cluster` a PATCH starts
 * (`startSettingsUpdate`: under the cluster's lock, outbox, cluster `updating`), with the event
 * `dev.capstan.cluster.drift_detected` and an audit event by the system actor whose reason names
 * what drifted. Capstan's rows are the desired state; after a correction GKE refused for good the
 * next waits a day (`driftCorrectionAllowed`).
 */
@Injectable()
export class CheckGkeSettingsDrift {
  private readonly logger = new Logger(CheckGkeSettingsDrift.name);
  private running = false;

  constructor(
    private readonly db: Database,
    private readonly clusters: ClustersRepository,
    private readonly unitOfWork: ClusterUnitOfWork,
    private readonly operations: OperationsRepository,
    private readonly history: OperationHistory,
    private readonly backends: ClusterBackends,
    private readonly events: EventsService,
    private readonly providerConfig: ProviderConfig,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  /** One pass over the fleet at `now` (the injected Clock's; tests hand it an instant to pass the day's wait). */
  async pass(now: Date = this.clock.now()): Promise<DriftPassResult> {
    const result: DriftPassResult = { inStep: 0, corrected: 0, busy: 0, heldBack: 0, failed: 0, clusters: {} };
    // The older simulated cloud (PROVIDER=simulated) keeps no settings of its own to drift.
    if (this.providerConfig.driver === 'simulated' || this.running) return result;
    this.running = true;
    try {
      for (let after: string | null = null; ;) {
        const page = await this.clusters.liveOnProvider('gke', WALKED_STATUSES, after, PAGE);
        if (page.length === 0) break;
        const lastCorrections = await this.history.latestRequestedBy(
          page.map((c) => c.id),
          'update_cluster',
          GKE_DRIFT_CHECK_ACTOR,
        );
        for (const cluster of page) {
          const outcome = await this.check(cluster, lastCorrections.get(cluster.id) ?? null, now);
          result[RESULT_FIELD[outcome]]++;
          result.clusters[cluster.id] = outcome;
          this.metrics.gkeDriftChecks.inc({ result: outcome });
        }
        after = page[page.length - 1]!.id;
      }
      return result;
    } finally {
      this.running = false;
    }
  }

  private async check(
    cluster: { id: string; organization_id: string; status: string },
    lastCorrection: Parameters<typeof driftCorrectionAllowed>[0],
    now: Date,
  ): Promise<DriftOutcome> {
    // A cluster in an operation is that operation's: its settings may be on their way to GKE.
    if (!CHECKED_STATUSES.includes(cluster.status) || (await this.operations.activeOnCluster(this.db, cluster.id))) return 'busy';
    let drift: ClusterSettingDrift[];
    try {
      const settings = await providerSettingsOf(this.db, cluster.id, now);
      drift = await this.backends.infrastructure('gke').clusterSettingsDrift(externalClusterName(cluster.id), settings);
    } catch (error) {
      this.logger.warn({ clusterId: cluster.id, err: error instanceof Error ? error.message : String(error) }, 'GKE drift check failed; next pass tries again');
      return 'failed';
    }
    if (drift.length === 0) return 'in_step';
    const allowed = driftCorrectionAllowed(lastCorrection, now);
    if (!allowed.allowed) {
      this.logger.warn(
        { clusterId: cluster.id, settings: drift.map((d) => d.setting), notBefore: allowed.until.toISOString() },
        "GKE's settings differ from Capstan's, but the last correction failed for good: the next waits",
      );
      return 'held_back';
    }
    return this.correct(cluster, drift);
  }

  private async correct(cluster: { id: string; organization_id: string }, drift: ClusterSettingDrift[]): Promise<DriftOutcome> {
    const reason = driftReason('GKE', drift);
    try {
      const started = await this.unitOfWork.run(
        { organizationId: cluster.organization_id, actor: GKE_DRIFT_CHECK_ACTOR },
        { clusterId: cluster.id },
        async ({ trx, cluster: locked, active, enqueue, audit }) => {
          // Read again under the cluster's lock: a PATCH or another pass may have come first.
          if (!locked || locked.provider !== 'gke' || active || !CHECKED_STATUSES.includes(locked.status)) return null;
          const operation = await startSettingsUpdate(
            { trx, active, enqueue },
            locked,
            drift.map((d) => d.setting),
          );
          await this.events.record(trx, {
            organizationId: cluster.organization_id,
            type: 'dev.capstan.cluster.drift_detected',
            source: `/v1/clusters/${cluster.id}`,
            subject: `/v1/clusters/${cluster.id}`,
            data: { cluster_id: cluster.id, operation_id: operation.id, reason, drift: drift.map((d) => ({ ...d })) },
          });
          await audit({
            action: 'cluster.drift_detected',
            target: { type: 'cluster', id: cluster.id },
            changes: { status: { before: locked.status, after: 'updating' } },
            reason,
          });
          return operation;
        },
      );
      if (!started) return 'busy';
      for (const d of drift) this.metrics.gkeSettingsDrift.inc({ setting: d.setting });
      this.logger.log({ clusterId: cluster.id, operationId: started.id, settings: drift.map((d) => d.setting) }, "GKE's settings drifted; correcting");
      return 'corrected';
    } catch (error) {
      // Taken by an operation, or gone, between the read and the lock: the next pass looks again.
      if (error instanceof ConflictError || error instanceof NotFoundError) return 'busy';
      throw error;
    }
  }
}
