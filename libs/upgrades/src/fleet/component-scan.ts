import type { DetectedComponent } from '@capstan/domain';
import { ClusterBackends, mapConcurrently } from '@capstan/kube';
import { Clock, Database, jsonb, Metrics, ProviderConfig } from '@capstan/platform';
import { externalClusterName } from '@capstan/providers';
import { Injectable, Logger } from '@nestjs/common';
import { type FleetClusterFacts, FleetClusterSource } from './fleet-cluster-source';

/** A cluster's last scan: what it found, as of when, and whether a later attempt could not read the cluster. */
export interface ComponentScanRecord {
  clusterId: string;
  organizationId: string;
  components: DetectedComponent[];
  /** When the last scan that succeeded read the cluster (null: none has yet). */
  scannedAt: Date | null;
  attemptedAt: Date;
  lastError: string | null;
}

/** The `cluster_component_scans` table (owned by libs/upgrades): one row per cluster, replaced by each scan. */
@Injectable()
export class ComponentScansRepository {
  constructor(private readonly db: Database) {}

  /** A scan read the cluster: its findings replace the last ones, as of `now`. */
  async succeeded(cluster: { id: string; organizationId: string }, components: readonly DetectedComponent[], now: Date): Promise<void> {
    await this.db
      .insertInto('cluster_component_scans')
      .values({
        cluster_id: cluster.id,
        organization_id: cluster.organizationId,
        components: jsonb(components),
        scanned_at: now,
        attempted_at: now,
        last_error: null,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.column('cluster_id').doUpdateSet((eb) => ({
          components: eb.ref('excluded.components'),
          scanned_at: eb.ref('excluded.scanned_at'),
          attempted_at: eb.ref('excluded.attempted_at'),
          last_error: null,
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  /** A scan could not read the cluster: its last findings stay, with their time; the attempt and why are noted. */
  async failed(cluster: { id: string; organizationId: string }, error: string, now: Date): Promise<void> {
    await this.db
      .insertInto('cluster_component_scans')
      .values({ cluster_id: cluster.id, organization_id: cluster.organizationId, attempted_at: now, last_error: error, updated_at: now })
      .onConflict((oc) =>
        oc.column('cluster_id').doUpdateSet((eb) => ({
          attempted_at: eb.ref('excluded.attempted_at'),
          last_error: eb.ref('excluded.last_error'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  /** The scans of the clusters among `ids` (callers pass clusters they already scoped to a tenant or the fleet). */
  async ofClusters(ids: readonly string[]): Promise<Map<string, ComponentScanRecord>> {
    const result = new Map<string, ComponentScanRecord>();
    for (let i = 0; i < ids.length; i += 1_000) {
      const rows = await this.db
        .selectFrom('cluster_component_scans')
        .select(['cluster_id', 'organization_id', 'components', 'scanned_at', 'attempted_at', 'last_error'])
        .where('cluster_id', 'in', ids.slice(i, i + 1_000))
        .execute();
      for (const r of rows)
        result.set(r.cluster_id, {
          clusterId: r.cluster_id,
          organizationId: r.organization_id,
          components: r.components as unknown as DetectedComponent[],
          scannedAt: r.scanned_at,
          attemptedAt: r.attempted_at,
          lastError: r.last_error,
        });
    }
    return result;
  }
}

/** The statuses in which a cluster's API server is meant to answer: the ones scanned. */
const SCANNED_STATUSES: readonly string[] = ['running', 'degraded', 'updating', 'upgrading'];
/** Clusters read per page of the walk through the fleet. */
const PAGE = 200;
/** Clusters scanned at once: an unreachable API server holds its slot until the request times out. */
const CONCURRENCY = 4;

export interface ComponentScanPassResult {
  scanned: number;
  /** The cluster's API could not be read: its last findings stay. */
  unreachable: number;
  /** Not in a status whose API server answers (provisioning, restoring, deleting...). */
  skipped: number;
  clusters: Record<string, 'scanned' | 'unreachable' | 'skipped'>;
}

/**
 * The component scan (docs/upgrades.md, "What a cluster runs"): for every live cluster, the
 * ingress-nginx controllers its Deployments and DaemonSets run (TenantKube.scanWorkloads), recorded
 * as detected components beside what Capstan installed, for the advisories. A cluster that cannot
 * be read keeps its last findings with their time. Read only inside the cluster; one pass per
 * period for the whole fleet (the `fleet` queue's `component-scan` job scheduler).
 */
@Injectable()
export class ScanClusterComponents {
  private readonly logger = new Logger(ScanClusterComponents.name);
  /** Passes of this process run one after the other: a caller's pass starts after the one in flight ends. */
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: FleetClusterSource,
    private readonly scans: ComponentScansRepository,
    private readonly backends: ClusterBackends,
    private readonly providerConfig: ProviderConfig,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  /** One pass over the fleet; what it found is what the advisories read from then on. */
  pass(): Promise<ComponentScanPassResult> {
    const run = this.last.then(() => this.walk());
    this.last = run.catch(() => undefined);
    return run;
  }

  private async walk(): Promise<ComponentScanPassResult> {
    const result: ComponentScanPassResult = { scanned: 0, unreachable: 0, skipped: 0, clusters: {} };
    // The older simulated cloud (PROVIDER=simulated) has no Kubernetes API to read.
    if (this.providerConfig.driver === 'simulated') return result;
    for (let after: string | undefined; ;) {
      const page = await this.source.page(after, PAGE, this.clock.now());
      const outcomes = await mapConcurrently(page, CONCURRENCY, (cluster) => this.scan(cluster));
      page.forEach((cluster, i) => {
        const outcome = outcomes[i]!;
        result[outcome]++;
        result.clusters[cluster.id] = outcome;
        this.metrics.componentScans.inc({ result: outcome });
      });
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    return result;
  }

  private async scan(cluster: FleetClusterFacts): Promise<'scanned' | 'unreachable' | 'skipped'> {
    if (!SCANNED_STATUSES.includes(cluster.status)) return 'skipped';
    let components: DetectedComponent[];
    try {
      const kube = await this.backends.kube(cluster.provider, externalClusterName(cluster.id));
      components = (await kube.scanWorkloads()).components;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn({ clusterId: cluster.id, err: message }, 'component scan could not read the cluster; its last findings stay');
      await this.scans.failed(cluster, message.slice(0, 500), this.clock.now());
      return 'unreachable';
    }
    await this.scans.succeeded(cluster, components, this.clock.now());
    return 'scanned';
  }
}
