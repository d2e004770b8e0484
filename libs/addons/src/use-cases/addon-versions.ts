import type { addonRoutes, RouteInput } from '@capstan/contracts';
import { type AddonRelease, assertReleaseFitsCatalogue, assertValidAddonRelease } from '@capstan/domain';
import { Database } from '@capstan/platform';
import { type Actor, AuditLog, changesBetween } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { AddonCatalogue, settingsValidator } from '../addon-catalogue';
import { AddonReleasesRepository } from '../addon-releases.repository';

type PutBody = RouteInput<typeof addonRoutes.adminPutAddonVersion>['body'];

export function presentRelease(r: AddonRelease) {
  return {
    name: r.name,
    title: r.title,
    tier: r.tier,
    chart_repo: r.chartRepo,
    chart: r.chart,
    namespace: r.namespace,
    version: r.version,
    app_version: r.appVersion,
    min_minor: r.minMinor,
    max_minor: r.maxMinor,
    settings_schema: r.settingsSchema,
    checked: r.checked,
    source: r.source,
  };
}

/**
 * The add-on catalogue's routes (docs/addons.md, "The catalogue"): customers read it, staff add or
 * correct a chart version with the source of its compatibility claim. Every staff change is an
 * audit event with its reason, and the row is no longer the seed's.
 */
@Injectable()
export class AddonVersions {
  constructor(
    private readonly db: Database,
    private readonly catalogue: AddonCatalogue,
    private readonly repo: AddonReleasesRepository,
    private readonly auditLog: AuditLog,
  ) {}

  async list() {
    return { items: (await this.catalogue.releases()).map(presentRelease) };
  }

  async listForStaff() {
    const rows = await this.repo.list(this.db, { withdrawn: true });
    return { items: rows.map((r) => ({ ...presentRelease(r), withdrawn_at: r.withdrawnAt?.toISOString() ?? null, from_seed: r.seedRevision !== null })) };
  }

  async put(actor: Actor, params: { name: string; version: string }, body: PutBody) {
    const release: AddonRelease = {
      name: params.name,
      version: params.version,
      title: body.title,
      tier: body.tier,
      chartRepo: body.chart_repo,
      chart: body.chart,
      namespace: body.namespace,
      appVersion: body.app_version,
      minMinor: body.min_minor,
      maxMinor: body.max_minor,
      settingsSchema: body.settings_schema,
      checked: body.checked,
      source: body.source,
    };
    assertValidAddonRelease(release);
    settingsValidator(release.settingsSchema);
    await this.db.transaction().execute(async (trx) => {
      const rows = await this.repo.list(trx, { withdrawn: true });
      // Against the catalogue as customers see it: a withdrawn version no longer installs anywhere.
      assertReleaseFitsCatalogue(
        release,
        rows.filter((r) => r.withdrawnAt === null),
      );
      const before = rows.find((r) => r.name === release.name && r.version === release.version);
      await this.repo.put(trx, release);
      const fields = ['title', 'tier', 'chartRepo', 'chart', 'namespace', 'appVersion', 'minMinor', 'maxMinor', 'settingsSchema', 'checked', 'source'] as const;
      await this.auditLog.record(trx, {
        organizationId: null,
        actor,
        action: before ? 'addon_version.update' : 'addon_version.create',
        target: { type: 'addon_version', id: `${release.name}/${release.version}` },
        changes: changesBetween({ ...(before ?? {}) }, { ...release }, [...fields]),
        reason: body.reason,
      });
    });
    return presentRelease(release);
  }
}
