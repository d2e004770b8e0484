import type { catalogueRoutes, RouteInput } from '@capstan/contracts';
import { ConflictError, UnprocessableError, type VersionCatalogueEntry, versionEntryProblems } from '@capstan/domain';
import { Database } from '@capstan/platform';
import { type Actor, AuditLog, changesBetween } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { VersionCatalogueRepository } from '../version-catalogue.repository';
import { ReadVersions, type VersionView } from './read-versions';

export type CreateVersionInput = RouteInput<typeof catalogueRoutes.adminCreateVersion>['body'];

/** The entry's rules broken, as one 422 naming each (the seed file obeys the same ones). */
export function assertValidEntry(entry: VersionCatalogueEntry): void {
  const problems = versionEntryProblems(entry as unknown as Record<string, unknown>);
  if (problems.length > 0) {
    throw new UnprocessableError('version-entry-invalid', `the ${entry.provider} ${entry.minor} catalogue entry is invalid: ${problems.join('; ')}`, {
      problems,
    });
  }
}

/** POST /admin/v1/versions: a new minor for one provider, with a source for every date; audited. */
@Injectable()
export class CreateVersion {
  constructor(
    private readonly db: Database,
    private readonly versions: VersionCatalogueRepository,
    private readonly read: ReadVersions,
    private readonly auditLog: AuditLog,
  ) {}

  async execute(actor: Actor, input: CreateVersionInput): Promise<VersionView> {
    const entry: VersionCatalogueEntry = {
      provider: input.provider,
      minor: input.minor,
      latestPatch: input.latest_patch,
      releasedAt: input.released_at,
      maintenanceAt: input.maintenance_at,
      standardSupportEndsAt: input.standard_support_ends_at,
      endOfSupportAt: input.end_of_support_at,
      preview: input.preview,
      sources: input.sources,
    };
    assertValidEntry(entry);
    await this.db.transaction().execute(async (trx) => {
      if (!(await this.versions.insert(trx, entry))) {
        throw new ConflictError(
          'version-exists',
          `Kubernetes ${entry.minor} is already in the ${entry.provider} catalogue; correct it with PATCH /admin/v1/versions/${entry.provider}/${entry.minor}`,
        );
      }
      await this.auditLog.record(trx, {
        organizationId: null,
        actor,
        action: 'version.create',
        target: { type: 'kubernetes_version', id: `${entry.provider}/${entry.minor}` },
        changes: changesBetween(null, { ...entry }, [
          'latestPatch',
          'releasedAt',
          'maintenanceAt',
          'standardSupportEndsAt',
          'endOfSupportAt',
          'preview',
          'sources',
        ]),
        reason: input.reason,
      });
    });
    return this.read.one(entry.provider, entry.minor);
  }
}
