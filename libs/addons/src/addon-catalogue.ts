import { ADDON_CATALOGUE_SEED, type AddonRelease, addonNames, addonsAt, defaultAddonNames, helmValuesFor, UnprocessableError } from '@capstan/domain';
import { Database, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { AddonReleasesRepository } from './addon-releases.repository';
import { ClusterAddonsRepository } from './cluster-addons.repository';

// Strict: a keyword ajv does not know is a mistake in a staff-written schema, not something to ignore.
const ajv = addFormats(new Ajv({ allErrors: true, strict: true, strictRequired: false }));
ajv.addKeyword({ keyword: 'x-helm-value', schemaType: 'string' });
const compiled = new WeakMap<object, ValidateFunction>();

/** Compiles an add-on's settings schema; a schema that does not compile is refused (admin PUT). */
export function settingsValidator(schema: Record<string, unknown>): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      throw new UnprocessableError('addon-release-invalid', `settings_schema is not a valid JSON Schema: ${(error as Error).message}`, {
        rule: 'catalogue rows are installable and sourced',
      });
    }
    compiled.set(schema, validate);
  }
  return validate;
}

/** Refuses settings the add-on's schema does not allow, naming every violation (docs/addons.md, "Settings"). */
export function assertValidSettings(release: AddonRelease, settings: Record<string, unknown>): void {
  const validate = settingsValidator(release.settingsSchema);
  if (validate(settings)) return;
  const errors = (validate.errors ?? []).map((e) => ({
    field: `settings${e.instancePath.replace(/\//g, '.')}${e.keyword === 'additionalProperties' ? `.${String((e.params as { additionalProperty?: string }).additionalProperty)}` : ''}`,
    message: e.message ?? e.keyword,
  }));
  throw new UnprocessableError(
    'addon-settings-invalid',
    `the settings of ${release.name} do not match its schema: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
    { rule: "settings follow the add-on's schema", errors },
  );
}

/**
 * The catalogue a running Capstan reads: the `addon_releases` table, or the seed while the table
 * is still empty (a worker that starts before any API seeded it). One reader for the routes, the
 * operation steps and the upgrade planner's input, so they all see the same rows.
 */
@Injectable()
export class AddonCatalogue {
  constructor(
    private readonly db: Database,
    private readonly releasesRepo: AddonReleasesRepository,
    private readonly clusterAddons: ClusterAddonsRepository,
  ) {}

  async releases(uow: UnitOfWork = this.db): Promise<AddonRelease[]> {
    const rows = await this.releasesRepo.list(uow);
    return rows.length > 0 ? rows : [...ADDON_CATALOGUE_SEED.releases];
  }

  /**
   * The add-ons a cluster runs: its choices, and for add-ons it never changed, the tier's default
   * (always-on and default add-ons on). `organizationId` scopes the read for API callers.
   */
  async enabledNames(clusterId: string, releases: readonly AddonRelease[], organizationId?: string, uow: UnitOfWork = this.db): Promise<string[]> {
    const rows = new Map((await this.clusterAddons.list(uow, { organizationId, clusterId })).map((r) => [r.name, r]));
    return addonNames(releases)
      .filter((r) => rows.get(r.name)?.enabled ?? defaultAddonNames([r]).length > 0)
      .map((r) => r.name);
  }

  /**
   * The names of the add-ons a cluster runs, as {@link enabledNames} counts them (public to other
   * features: docs/architecture.md, "Feature-to-feature calls"; backups asks whether Velero is
   * there). `uow` lets a caller read them in the transaction that holds the cluster's lock, where
   * an add-on change, which takes that lock too, cannot move them.
   */
  async enabledAddons(clusterId: string, organizationId?: string, uow: UnitOfWork = this.db): Promise<string[]> {
    return this.enabledNames(clusterId, await this.releases(uow), organizationId, uow);
  }

  /** What the planner takes: the catalogue rows and the add-ons the cluster runs. */
  async planInput(clusterId: string, organizationId?: string): Promise<{ releases: AddonRelease[]; enabled: string[] }> {
    const releases = await this.releases();
    return { releases, enabled: await this.enabledNames(clusterId, releases, organizationId) };
  }

  /**
   * The add-on versions each cluster runs, as advisories judge them: per cluster, the add-ons on at
   * its minor (its choices, else the tier's default) at the chart version last read back from the
   * cluster, or, where nothing was read back yet, the catalogue version Capstan installs at that
   * minor. One read of the choices for all clusters (docs/addons.md, "Advisories").
   */
  async installedVersions(clusters: readonly { id: string; version: string }[]): Promise<Map<string, { name: string; version: string }[]>> {
    const releases = await this.releases();
    const choices = new Map<string, Map<string, { enabled: boolean; installedVersion: string | null }>>();
    for (const row of await this.clusterAddons.ofClusters(
      this.db,
      clusters.map((c) => c.id),
    )) {
      const mine = choices.get(row.clusterId) ?? new Map<string, { enabled: boolean; installedVersion: string | null }>();
      mine.set(row.name, row);
      choices.set(row.clusterId, mine);
    }
    const result = new Map<string, { name: string; version: string }[]>();
    for (const cluster of clusters) {
      const mine = choices.get(cluster.id) ?? new Map();
      const on = addonNames(releases)
        .filter((r) => mine.get(r.name)?.enabled ?? defaultAddonNames([r]).length > 0)
        .map((r) => r.name);
      const atMinor = new Map(addonsAt(releases, cluster.version, on).map((a) => [a.name, a.version]));
      result.set(
        cluster.id,
        on.flatMap((name) => {
          const version = mine.get(name)?.installedVersion ?? atMinor.get(name);
          return version ? [{ name, version }] : [];
        }),
      );
    }
    return result;
  }

  /** The HelmChart requests of a cluster's add-ons at `version` (an upgrade's `upgrade_addons` step), with their settings. */
  async requestsAt(clusterId: string, version: string) {
    const releases = await this.releases();
    const names = await this.enabledNames(clusterId, releases);
    const settings = new Map((await this.clusterAddons.list(this.db, { clusterId })).map((r) => [r.name, r.settings]));
    return addonsAt(releases, version, names).map((a) => {
      const release = releases.find((r) => r.name === a.name && r.version === a.version)!;
      return { ...a, values: helmValuesFor(release, settings.get(a.name) ?? {}) };
    });
  }
}
