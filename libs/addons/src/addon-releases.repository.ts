import type { AddonCatalogueSeed, AddonRelease } from '@capstan/domain';
import { jsonb, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

function columnsOf(r: AddonRelease) {
  return {
    title: r.title,
    tier: r.tier,
    chart_repo: r.chartRepo,
    chart: r.chart,
    namespace: r.namespace,
    app_version: r.appVersion,
    min_minor: r.minMinor,
    max_minor: r.maxMinor,
    settings_schema: jsonb(r.settingsSchema),
    checked: r.checked,
    source: r.source,
    updated_at: new Date(),
  };
}

/** `addon_releases` (owned by libs/addons): the catalogue a running Capstan reads (docs/addons.md, "The catalogue"). */
@Injectable()
export class AddonReleasesRepository {
  /** Every offered release (withdrawn ones left out), in name and version order. */
  async list(db: UnitOfWork, options: { withdrawn?: boolean } = {}): Promise<(AddonRelease & { withdrawnAt: Date | null; seedRevision: number | null })[]> {
    let query = db.selectFrom('addon_releases').selectAll().orderBy('name').orderBy('version');
    if (!options.withdrawn) query = query.where('withdrawn_at', 'is', null);
    const rows = await query.execute();
    return rows.map((r) => ({
      name: r.name,
      title: r.title,
      tier: r.tier,
      chartRepo: r.chart_repo,
      chart: r.chart,
      namespace: r.namespace,
      version: r.version,
      appVersion: r.app_version,
      minMinor: r.min_minor,
      maxMinor: r.max_minor,
      settingsSchema: r.settings_schema as Record<string, unknown>,
      checked: r.checked,
      source: r.source,
      withdrawnAt: r.withdrawn_at,
      seedRevision: r.seed_revision,
    }));
  }

  /**
   * Fills the table from the seed: rows it lacks are inserted, rows an older seed wrote are brought
   * up to date, rows staff wrote (`seed_revision` null) stay. One idempotent statement, so replicas
   * starting together are safe.
   */
  async seed(db: UnitOfWork, seed: AddonCatalogueSeed): Promise<void> {
    if (seed.releases.length === 0) return;
    await db
      .insertInto('addon_releases')
      .values(seed.releases.map((r) => ({ name: r.name, version: r.version, ...columnsOf(r), seed_revision: seed.revision })))
      .onConflict((oc) =>
        oc
          .columns(['name', 'version'])
          .doUpdateSet((eb) => ({
            title: eb.ref('excluded.title'),
            tier: eb.ref('excluded.tier'),
            chart_repo: eb.ref('excluded.chart_repo'),
            chart: eb.ref('excluded.chart'),
            namespace: eb.ref('excluded.namespace'),
            app_version: eb.ref('excluded.app_version'),
            min_minor: eb.ref('excluded.min_minor'),
            max_minor: eb.ref('excluded.max_minor'),
            settings_schema: eb.ref('excluded.settings_schema'),
            checked: eb.ref('excluded.checked'),
            source: eb.ref('excluded.source'),
            seed_revision: eb.ref('excluded.seed_revision'),
            updated_at: eb.ref('excluded.updated_at'),
          }))
          .where('addon_releases.seed_revision', '<', seed.revision),
      )
      .execute();
  }

  /** Writes a staff edit: the row is no longer the seed's, so a newer seed never overwrites it. */
  async put(db: UnitOfWork, release: AddonRelease): Promise<void> {
    await db
      .insertInto('addon_releases')
      .values({ name: release.name, version: release.version, ...columnsOf(release), seed_revision: null, withdrawn_at: null })
      .onConflict((oc) => oc.columns(['name', 'version']).doUpdateSet({ ...columnsOf(release), seed_revision: null, withdrawn_at: null }))
      .execute();
  }

  async withdraw(db: UnitOfWork, name: string, version: string, at: Date): Promise<boolean> {
    const result = await db
      .updateTable('addon_releases')
      .set({ withdrawn_at: at, seed_revision: null, updated_at: at })
      .where('name', '=', name)
      .where('version', '=', version)
      .where('withdrawn_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
