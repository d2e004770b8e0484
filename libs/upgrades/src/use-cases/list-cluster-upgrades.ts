import { compareMinors, DomainError, listVersions, parseMinor, planUpgrade } from '@capstan/domain';
import { Clock } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { UpgradeClusterSource } from '../upgrade-cluster-source';

/**
 * GET /v1/clusters/{cluster_id}/upgrades: every catalogue version newer than the cluster's that is
 * not end of life, nearest first, each with its number of hops and what blocks it today. A target
 * the rules forbid (a gap in the catalogue) is left out: it is not a version the cluster may go to.
 */
@Injectable()
export class ListClusterUpgrades {
  constructor(
    private readonly source: UpgradeClusterSource,
    private readonly clock: Clock,
  ) {}

  async execute(organizationId: string, clusterId: string) {
    const now = this.clock.now();
    const cluster = await this.source.cluster(organizationId, clusterId);
    const catalogue = await this.source.catalogue(cluster.provider);
    const current = parseMinor(cluster.controlPlaneVersion);
    const candidates = listVersions(now, cluster.provider, catalogue)
      .filter((v) => v.state !== 'eol' && compareMinors(v.minor, cluster.controlPlaneVersion) >= 0 && parseMinor(v.minor).major === current.major)
      .sort((a, b) => compareMinors(a.minor, b.minor));
    const items = [];
    for (const v of candidates) {
      try {
        const plan = planUpgrade({ ...cluster, target: v.latestPatch, catalogue, now });
        items.push({
          version: v.latestPatch,
          minor: v.minor,
          state: v.state,
          hops: plan.hops.length,
          runnable: plan.blockers.length === 0,
          blockers: plan.blockers.map((b) => b.reason),
        });
      } catch (error) {
        if (error instanceof DomainError) continue;
        throw error;
      }
    }
    return { items };
  }
}
