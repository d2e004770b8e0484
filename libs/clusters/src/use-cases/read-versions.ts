import type { catalogueRoutes, z } from '@capstan/contracts';
import { channelsByMinor, type KubernetesVersion, listVersions, managedAddonsFor, type Provider } from '@capstan/domain';
import { Clock } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { type VersionRow, VersionCatalogueRepository } from '../version-catalogue.repository';

export type VersionView = z.infer<typeof catalogueRoutes.versionSchema>;

/** One version as the API shows it: dates, state on today's date, channels and add-ons. */
export function presentVersion(v: KubernetesVersion, row: VersionRow, channels: string[]): VersionView {
  return {
    provider: v.provider,
    minor: v.minor,
    latest_patch: v.latestPatch,
    state: v.state,
    released_at: v.releasedAt,
    maintenance_at: v.maintenanceAt,
    standard_support_ends_at: v.standardSupportEndsAt,
    end_of_support_at: v.endOfSupportAt,
    // one line for readers of the older field; `sources` has the source of each date
    source: [...new Set(Object.values(v.sources))].join('; '),
    sources: { ...v.sources },
    patches: row.patches,
    default_for_new: row.defaultForNew,
    channels,
    addons: managedAddonsFor(v.minor),
  };
}

/**
 * The version catalogue as the rest of the product reads it: from `kubernetes_versions`
 * (docs/upgrades.md, "The version catalogue"), with each state computed from the dates and the
 * injected clock.
 */
@Injectable()
export class ReadVersions {
  constructor(
    private readonly versions: VersionCatalogueRepository,
    private readonly clock: Clock,
  ) {}

  /** The catalogue rows (every provider's, or one's) for the domain's rules. */
  entries(provider?: Provider): Promise<VersionRow[]> {
    return this.versions.list(provider);
  }

  /** GET /v1/versions: newest minor first per provider, each with its channels and add-ons. */
  async list(provider?: Provider): Promise<{ items: VersionView[] }> {
    const now = this.clock.now();
    // channels depend on every minor of a provider, so they are computed from the whole catalogue
    const rows = await this.versions.list();
    const versions = listVersions(now, undefined, rows);
    const channels = channelsByMinor(versions, now, rows);
    const byKey = new Map(rows.map((r) => [`${r.provider} ${r.minor}`, r]));
    return {
      items: versions
        .filter((v) => provider === undefined || v.provider === provider)
        .map((v) => presentVersion(v, byKey.get(`${v.provider} ${v.minor}`)!, channels.get(`${v.provider} ${v.minor}`) ?? [])),
    };
  }

  /** One version as presented, after a staff edit. */
  async one(provider: Provider, minor: string): Promise<VersionView> {
    const { items } = await this.list(provider);
    return items.find((v) => v.minor === minor)!;
  }
}
