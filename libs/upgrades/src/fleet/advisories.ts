import type { fleetRoutes, z } from '@capstan/contracts';
import {
  type Advisory,
  type AdvisoryKind,
  type AdvisorySeverity,
  bundledComponentsFor,
  findingsFor,
  managedAddonsFor,
  NotFoundError,
  SEEDED_ADVISORIES,
} from '@capstan/domain';
import { Clock, Database, jsonb } from '@capstan/platform';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ComponentScansRepository } from './component-scan';
import { type FleetClusterFacts, FleetClusterSource } from './fleet-cluster-source';

/** The `advisories` table (owned by libs/upgrades). */
@Injectable()
export class AdvisoriesRepository {
  constructor(private readonly db: Database) {}

  async list(): Promise<Advisory[]> {
    const rows = await this.db.selectFrom('advisories').selectAll().orderBy('published_on', 'desc').orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind as AdvisoryKind,
      component: r.component,
      title: r.title,
      severity: r.severity as AdvisorySeverity,
      cvss: r.cvss,
      affected: r.affected as Advisory['affected'],
      fixedIn: r.fixed_in,
      remedy: r.remedy,
      publishedOn: r.published_on,
      sources: r.sources,
    }));
  }

  /**
   * Brings the seeded rows up to date with libs/domain's seed; rows staff wrote (`seeded` false)
   * are never overwritten. One idempotent statement, so replicas starting together are safe.
   */
  async seed(advisories: readonly Advisory[], now: Date): Promise<void> {
    if (advisories.length === 0) return;
    const values = advisories.map((a) => ({
      id: a.id,
      kind: a.kind,
      component: a.component,
      title: a.title,
      severity: a.severity,
      cvss: a.cvss,
      affected: jsonb(a.affected),
      fixed_in: [...a.fixedIn],
      remedy: a.remedy,
      published_on: a.publishedOn,
      sources: [...a.sources],
      seeded: true,
      updated_at: now,
    }));
    await this.db
      .insertInto('advisories')
      .values(values)
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet((eb) => ({
            kind: eb.ref('excluded.kind'),
            component: eb.ref('excluded.component'),
            title: eb.ref('excluded.title'),
            severity: eb.ref('excluded.severity'),
            cvss: eb.ref('excluded.cvss'),
            affected: eb.ref('excluded.affected'),
            fixed_in: eb.ref('excluded.fixed_in'),
            remedy: eb.ref('excluded.remedy'),
            published_on: eb.ref('excluded.published_on'),
            sources: eb.ref('excluded.sources'),
            updated_at: eb.ref('excluded.updated_at'),
          }))
          .where('advisories.seeded', '=', true),
      )
      .execute();
  }
}

/** Fills the advisories from the seed when the API starts (docs/upgrades.md, "Advisories"). */
@Injectable()
export class AdvisorySeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdvisorySeeder.name);

  constructor(
    private readonly advisories: AdvisoriesRepository,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.advisories.seed(SEEDED_ADVISORIES, this.clock.now());
    this.logger.log({ advisories: SEEDED_ADVISORIES.length }, 'advisories seeded');
  }
}

/**
 * The component versions a cluster runs, for advisories. The port lets the add-on feature answer
 * with what it installed; until it does, Capstan knows Kubernetes itself and the managed stack
 * that goes with the cluster's minor (libs/domain managed-stack).
 */
export abstract class ClusterComponentInventory {
  abstract components(clusters: readonly FleetClusterFacts[]): Promise<Map<string, { name: string; version: string }[]>>;
}

@Injectable()
export class ManagedStackInventory extends ClusterComponentInventory {
  components(clusters: readonly FleetClusterFacts[]) {
    return Promise.resolve(
      new Map(clusters.map((c) => [c.id, [{ name: 'kubernetes', version: c.controlPlaneVersion }, ...managedAddonsFor(c.controlPlaneVersion)]])),
    );
  }
}

type AdvisoryView = Omit<z.infer<typeof fleetRoutes.advisorySchema>, never>;

function presentAdvisory(a: Advisory): AdvisoryView {
  return {
    id: a.id,
    kind: a.kind,
    component: a.component,
    title: a.title,
    severity: a.severity,
    cvss: a.cvss,
    affected: a.affected.map((r) => ({ ...r })),
    fixed_in: [...a.fixedIn],
    remedy: a.remedy,
    published_on: a.publishedOn,
    sources: [...a.sources],
  };
}

/** One component of a cluster as the advisories judge it, with where Capstan knows it from. */
interface JudgedComponent {
  name: string;
  version: string | null;
  /** `capstan`: Kubernetes, Capstan's add-ons and what the distribution bundles; `scan`: found running by the component scan. */
  source: 'capstan' | 'scan';
  workload: { kind: string; namespace: string; name: string; image: string } | null;
  /** The scan's time for a component it found (what it says holds as of then); null for Capstan's own. */
  asOf: Date | null;
  /** A later scan could not read the cluster (its last findings stand): when it tried. */
  lastScanFailedAt: Date | null;
}

type AffectedCluster = {
  cluster_id: string;
  organization_id: string;
  name: string;
  component: string;
  version: string | null;
  source: 'capstan' | 'scan';
  workload: { kind: string; namespace: string; name: string; image: string } | null;
  as_of: string | null;
  last_scan_failed_at: string | null;
};

/** `GET /v1/advisories` and `GET /admin/v1/advisories`: each advisory with the clusters it affects. */
@Injectable()
export class ListAdvisories {
  constructor(
    private readonly advisories: AdvisoriesRepository,
    private readonly source: FleetClusterSource,
    private readonly inventory: ClusterComponentInventory,
    private readonly scans: ComponentScansRepository,
    private readonly clock: Clock,
  ) {}

  /** A customer's: only its own clusters (one of them with `clusterId`); advisories affecting none are left out. */
  async forOrganization(organizationId: string, clusterId?: string) {
    const clusters = (await this.source.ofOrganization(organizationId, this.clock.now())).filter((c) => clusterId === undefined || c.id === clusterId);
    const exposure = await this.exposure(clusters);
    return { items: exposure.filter((a) => a.clusters.length > 0).map((a) => ({ ...a, clusters: a.clusters.map(({ organization_id: _, ...c }) => c) })) };
  }

  /** Staff's: every advisory, with the fleet's affected clusters. */
  async forFleet() {
    const now = this.clock.now();
    const clusters: FleetClusterFacts[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.source.page(after, 2_000, now);
      clusters.push(...page);
      if (page.length < 2_000) break;
      after = page[page.length - 1]!.id;
    }
    return { items: await this.exposure(clusters) };
  }

  /**
   * Whether a critical advisory affects the cluster (the staff override's precondition). Only what
   * moves with the cluster's Kubernetes version counts (Kubernetes, Capstan's add-ons, what the
   * distribution bundles): an upgrade does not change an ingress-nginx the customer installed, so a
   * finding of the component scan is no reason to override the customer's exclusions.
   */
  async affects(cluster: FleetClusterFacts, advisoryId: string): Promise<Advisory | null> {
    const advisory = (await this.advisories.list()).find((a) => a.id === advisoryId);
    if (!advisory) throw new NotFoundError('advisory', advisoryId);
    const components = [
      ...((await this.inventory.components([cluster])).get(cluster.id) ?? []),
      ...bundledComponentsFor(cluster.provider, cluster.controlPlaneVersion),
    ];
    return findingsFor(components, [advisory]).length > 0 ? advisory : null;
  }

  /**
   * Every component of each cluster: the inventory's (Kubernetes and Capstan's add-ons), what its
   * distribution bundles at its version (RKE2's etcd), and what the component scan last found
   * running in it (docs/upgrades.md, "What a cluster runs").
   */
  private async components(clusters: readonly FleetClusterFacts[]): Promise<Map<string, JudgedComponent[]>> {
    const installed = await this.inventory.components(clusters);
    const scans = await this.scans.ofClusters(clusters.map((c) => c.id));
    const own = (c: { name: string; version: string }): JudgedComponent => ({ ...c, source: 'capstan', workload: null, asOf: null, lastScanFailedAt: null });
    return new Map(
      clusters.map((cluster) => {
        const scan = scans.get(cluster.id);
        const failedLater = scan?.lastError && scan.scannedAt ? scan.attemptedAt : null;
        const detected = (scan?.scannedAt ? scan.components : []).map((d): JudgedComponent => ({
          name: d.component,
          version: d.version,
          source: 'scan',
          workload: { kind: d.workloadKind, namespace: d.namespace, name: d.workload, image: d.image },
          asOf: scan!.scannedAt,
          lastScanFailedAt: failedLater,
        }));
        return [
          cluster.id,
          [...(installed.get(cluster.id) ?? []).map(own), ...bundledComponentsFor(cluster.provider, cluster.controlPlaneVersion).map(own), ...detected],
        ];
      }),
    );
  }

  private async exposure(clusters: readonly FleetClusterFacts[]) {
    const advisories = await this.advisories.list();
    const components = await this.components(clusters);
    const byAdvisory = new Map<string, AffectedCluster[]>();
    for (const c of clusters) {
      for (const component of components.get(c.id) ?? []) {
        for (const f of findingsFor([component], advisories)) {
          const list = byAdvisory.get(f.advisoryId) ?? [];
          list.push({
            cluster_id: c.id,
            organization_id: c.organizationId,
            name: c.name,
            component: f.component,
            version: f.version,
            source: component.source,
            workload: component.workload,
            as_of: component.asOf?.toISOString() ?? null,
            last_scan_failed_at: component.lastScanFailedAt?.toISOString() ?? null,
          });
          byAdvisory.set(f.advisoryId, list);
        }
      }
    }
    return advisories.map((a) => ({ ...presentAdvisory(a), clusters: byAdvisory.get(a.id) ?? [] }));
  }
}
