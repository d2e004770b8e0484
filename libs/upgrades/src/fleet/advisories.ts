import type { fleetRoutes, z } from '@capstan/contracts';
import { type Advisory, type AdvisoryKind, type AdvisorySeverity, findingsFor, managedAddonsFor, NotFoundError, SEEDED_ADVISORIES } from '@capstan/domain';
import { Clock, Database, jsonb } from '@capstan/platform';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
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

/** `GET /v1/advisories` and `GET /admin/v1/advisories`: each advisory with the clusters it affects. */
@Injectable()
export class ListAdvisories {
  constructor(
    private readonly advisories: AdvisoriesRepository,
    private readonly source: FleetClusterSource,
    private readonly inventory: ClusterComponentInventory,
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

  /** Whether a critical advisory affects the cluster (the staff override's precondition). */
  async affects(cluster: FleetClusterFacts, advisoryId: string): Promise<Advisory | null> {
    const advisory = (await this.advisories.list()).find((a) => a.id === advisoryId);
    if (!advisory) throw new NotFoundError('advisory', advisoryId);
    const components = (await this.inventory.components([cluster])).get(cluster.id) ?? [];
    return findingsFor(components, [advisory]).length > 0 ? advisory : null;
  }

  private async exposure(clusters: readonly FleetClusterFacts[]) {
    const advisories = await this.advisories.list();
    const components = await this.inventory.components(clusters);
    const byAdvisory = new Map<string, { cluster_id: string; organization_id: string; name: string; component: string; version: string }[]>();
    for (const c of clusters) {
      for (const f of findingsFor(components.get(c.id) ?? [], advisories)) {
        const list = byAdvisory.get(f.advisoryId) ?? [];
        list.push({ cluster_id: c.id, organization_id: c.organizationId, name: c.name, component: f.component, version: f.version });
        byAdvisory.set(f.advisoryId, list);
      }
    }
    return advisories.map((a) => ({ ...presentAdvisory(a), clusters: byAdvisory.get(a.id) ?? [] }));
  }
}
