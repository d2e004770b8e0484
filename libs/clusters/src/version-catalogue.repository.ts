import type { Provider, VersionCatalogue, VersionCatalogueEntry, VersionSources } from '@capstan/domain';
import { Database, jsonb, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { type RawBuilder, sql } from 'kysely';

/** A catalogue row as the domain reads it, with the patches offered over time. */
export interface VersionRow extends VersionCatalogueEntry {
  patches: string[];
  defaultForNew: boolean;
}

/**
 * DATE columns as `YYYY-MM-DD` text: pg would turn them into a Date at the server process's local
 * midnight, which shifts a day for anyone east or west of UTC (docs/upgrades.md, "States").
 */
const day = (column: 'released_at' | 'maintenance_at' | 'standard_support_ends_at' | 'end_of_support_at'): RawBuilder<string> =>
  sql<string>`to_char(${sql.ref(column)}, 'YYYY-MM-DD')`;

function selectVersions(db: UnitOfWork) {
  return db
    .selectFrom('kubernetes_versions')
    .select(['provider', 'minor', 'latest_patch', 'patches', 'preview', 'default_for_new', 'sources'])
    .select([
      day('released_at').as('released_at'),
      day('maintenance_at').as('maintenance_at'),
      day('standard_support_ends_at').as('standard_support_ends_at'),
      day('end_of_support_at').as('end_of_support_at'),
    ]);
}

type Fetched = Awaited<ReturnType<ReturnType<typeof selectVersions>['execute']>>[number];

function toRow(r: Fetched): VersionRow {
  return {
    provider: r.provider,
    minor: r.minor,
    latestPatch: r.latest_patch,
    patches: r.patches,
    releasedAt: r.released_at,
    maintenanceAt: r.maintenance_at,
    standardSupportEndsAt: r.standard_support_ends_at,
    endOfSupportAt: r.end_of_support_at,
    preview: r.preview,
    defaultForNew: r.default_for_new,
    sources: (r.sources ?? {}) as VersionSources,
  };
}

/** The values of one catalogue row from a domain entry (dates stay calendar days). */
function columnsOf(e: VersionCatalogueEntry, patches: string[]) {
  return {
    latest_patch: e.latestPatch,
    patches,
    released_at: sql<Date>`${e.releasedAt}::date`,
    maintenance_at: e.maintenanceAt === null ? null : sql<Date>`${e.maintenanceAt}::date`,
    standard_support_ends_at: e.standardSupportEndsAt === null ? null : sql<Date>`${e.standardSupportEndsAt}::date`,
    end_of_support_at: sql<Date>`${e.endOfSupportAt}::date`,
    preview: e.preview === true,
    sources: jsonb(e.sources),
    updated_at: new Date(),
  };
}

/** The `kubernetes_versions` table (owned by libs/clusters, docs/architecture.md). */
@Injectable()
export class VersionCatalogueRepository {
  constructor(private readonly db: Database) {}

  async list(provider?: Provider, db: UnitOfWork = this.db): Promise<VersionRow[]> {
    let q = selectVersions(db);
    if (provider) q = q.where('provider', '=', provider);
    return (await q.orderBy('provider').orderBy('minor').execute()).map(toRow);
  }

  /** One row, locked for the rest of the caller's transaction when `forUpdate`. */
  async get(db: UnitOfWork, provider: Provider, minor: string, forUpdate = false): Promise<VersionRow | undefined> {
    let q = selectVersions(db).where('provider', '=', provider).where('minor', '=', minor);
    if (forUpdate) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row && toRow(row);
  }

  /** A new minor added by staff: no seed revision, so no seed ever overwrites it. */
  async insert(db: UnitOfWork, entry: VersionCatalogueEntry): Promise<boolean> {
    const result = await db
      .insertInto('kubernetes_versions')
      .values({ provider: entry.provider, minor: entry.minor, ...columnsOf(entry, [entry.latestPatch]), seed_revision: null })
      .onConflict((oc) => oc.columns(['provider', 'minor']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** A staff edit: the row leaves the seed's hands (seed_revision null). */
  async update(db: UnitOfWork, entry: VersionCatalogueEntry, patches: string[]): Promise<void> {
    await db
      .updateTable('kubernetes_versions')
      .set({ ...columnsOf(entry, patches), seed_revision: null })
      .where('provider', '=', entry.provider)
      .where('minor', '=', entry.minor)
      .execute();
  }

  /** Makes `minor` the one default of `provider` (one statement, so there is never none or two). */
  async setDefault(db: UnitOfWork, provider: Provider, minor: string): Promise<void> {
    await db
      .updateTable('kubernetes_versions')
      .set({ default_for_new: sql<boolean>`minor = ${minor}`, updated_at: new Date() })
      .where('provider', '=', provider)
      .where((eb) => eb.or([eb('default_for_new', '=', true), eb('minor', '=', minor)]))
      .execute();
  }

  /**
   * Fills the table from the seed file: minors it lacks are inserted, rows last written by an
   * older seed revision are brought up to this one, and rows staff edited (seed_revision null)
   * or a newer seed wrote are left alone. Safe to run from every API replica at once: each
   * statement is idempotent and the revision guard makes an older replica's seed a no-op.
   */
  async seed(catalogue: VersionCatalogue): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const entry of catalogue.entries) {
        const columns = { ...columnsOf(entry, [entry.latestPatch]), seed_revision: catalogue.revision };
        await trx
          .insertInto('kubernetes_versions')
          .values({ provider: entry.provider, minor: entry.minor, ...columns })
          .onConflict((oc) =>
            oc
              .columns(['provider', 'minor'])
              .doUpdateSet({
                ...columns,
                // the patch history grows; a patch the seed no longer names is kept
                patches: sql<
                  string[]
                >`CASE WHEN ${entry.latestPatch} = ANY(kubernetes_versions.patches) THEN kubernetes_versions.patches ELSE array_append(kubernetes_versions.patches, ${entry.latestPatch}) END`,
              })
              .where('kubernetes_versions.seed_revision', 'is not', null)
              .where('kubernetes_versions.seed_revision', '<', catalogue.revision),
          )
          .execute();
      }
    });
  }
}
