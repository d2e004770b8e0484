import type { catalogueRoutes, RouteInput } from '@capstan/contracts';
import { comparePatches, NotFoundError, UnprocessableError, type VersionCatalogueEntry } from '@capstan/domain';
import { Database } from '@capstan/platform';
import { type Actor, AuditLog, changesBetween } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { VersionCatalogueRepository } from '../version-catalogue.repository';
import { assertValidEntry } from './create-version';
import { ReadVersions, type VersionView } from './read-versions';

export type UpdateVersionInput = RouteInput<typeof catalogueRoutes.adminUpdateVersion>['body'];
type Params = RouteInput<typeof catalogueRoutes.adminUpdateVersion>['params'];

const DATES = [
  ['released_at', 'releasedAt'],
  ['maintenance_at', 'maintenanceAt'],
  ['standard_support_ends_at', 'standardSupportEndsAt'],
  ['end_of_support_at', 'endOfSupportAt'],
] as const;

/**
 * PATCH /admin/v1/versions/{provider}/{minor}: add a patch, correct a date, hold back or release
 * a preview, set the default for new clusters. A changed date (or patch) must come with its new
 * source, so the catalogue never shows a date with the source of the one it replaced. Audited; the
 * row is no longer the seed's (a newer seed file will not overwrite the correction).
 */
@Injectable()
export class UpdateVersion {
  constructor(
    private readonly db: Database,
    private readonly versions: VersionCatalogueRepository,
    private readonly read: ReadVersions,
    private readonly auditLog: AuditLog,
  ) {}

  async execute(actor: Actor, { provider, minor }: Params, input: UpdateVersionInput): Promise<VersionView> {
    await this.db.transaction().execute(async (trx) => {
      const current = await this.versions.get(trx, provider, minor, true);
      if (!current) throw new NotFoundError('Kubernetes version', `${provider}/${minor}`);

      const next: VersionCatalogueEntry = { ...current, sources: { ...current.sources, ...input.sources } };
      const missing: string[] = [];
      for (const [field, key] of DATES) {
        const value = input[field];
        if (value === undefined || value === current[key]) continue;
        next[key] = value as string;
        if (value !== null && !input.sources[key]) missing.push(`sources.${key}`);
        if (value === null) delete next.sources[key];
      }
      let patches = current.patches;
      if (input.latest_patch !== undefined && input.latest_patch !== current.latestPatch) {
        if (comparePatches(input.latest_patch, current.latestPatch) <= 0) {
          throw new UnprocessableError(
            'patch-not-newer',
            `${input.latest_patch} is not newer than the latest patch of ${provider} ${minor}, ${current.latestPatch}`,
            {
              latest_patch: current.latestPatch,
            },
          );
        }
        next.latestPatch = input.latest_patch;
        patches = [...current.patches, input.latest_patch];
        if (!input.sources.latestPatch) missing.push('sources.latestPatch');
      }
      if (missing.length > 0) {
        throw new UnprocessableError('source-required', `a changed date or patch needs its source: give ${missing.join(', ')}`, { missing });
      }
      if (input.preview !== undefined) next.preview = input.preview;
      assertValidEntry(next);

      await this.versions.update(trx, next, patches);
      if (input.default_for_new) await this.versions.setDefault(trx, provider, minor);
      const fields = ['latestPatch', 'releasedAt', 'maintenanceAt', 'standardSupportEndsAt', 'endOfSupportAt', 'preview', 'defaultForNew', 'sources'] as const;
      await this.auditLog.record(trx, {
        organizationId: null,
        actor,
        action: 'version.update',
        target: { type: 'kubernetes_version', id: `${provider}/${minor}` },
        changes: changesBetween({ ...current }, { ...next, defaultForNew: input.default_for_new ?? current.defaultForNew }, [...fields]),
        reason: input.reason,
      });
    });
    return this.read.one(provider, minor);
  }
}
