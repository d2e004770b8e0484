import { type AddonRelease, addonNames, addonReleaseFor, helmValuesFor, NotFoundError, UnprocessableError } from '@capstan/domain';
import { ClusterBackends, type InstalledAddon } from '@capstan/kube';
import { Database } from '@capstan/platform';
import { externalClusterName, ProviderError } from '@capstan/providers';
import { Injectable, Logger } from '@nestjs/common';
import { AddonCatalogue, assertValidSettings } from '../addon-catalogue';
import { AddonClusterSource, type AddonRequester } from '../addon-cluster-source';
import { ClusterAddonsRepository } from '../cluster-addons.repository';

type AddonView = ReturnType<typeof present>;

/** What an `update_addons` operation works on, kept in its params (see the steps). */
export interface AddonChangeParams {
  addon: string;
  action: 'install' | 'remove';
  tier: AddonRelease['tier'];
  version: string | null;
  chartRepo: string;
  chart: string;
  namespace: string;
  values: Record<string, string | number | boolean>;
}

function present(
  release: AddonRelease,
  enabled: boolean,
  desired: string | null,
  settings: Record<string, unknown>,
  observed: {
    installedVersion: string | null;
    status: string;
    message: string | null;
    managedBy: 'capstan' | 'distribution';
    source: 'live' | 'last_operation';
  },
) {
  return {
    name: release.name,
    title: release.title,
    tier: release.tier,
    enabled,
    removable: release.tier !== 'always_on',
    desired_version: desired,
    installed_version: observed.installedVersion,
    managed_by: observed.managedBy,
    status: observed.status as 'installed' | 'installing' | 'pending' | 'failed' | 'removed' | 'disabled' | 'bundled' | 'unknown',
    message: observed.message,
    observed: observed.source,
    settings,
  };
}

/**
 * GET/PUT/DELETE /v1/clusters/{cluster_id}/addons[/{name}] (docs/addons.md, "Routes"). The read
 * asks the cluster itself for what runs (helm-controller's HelmCharts and the release workloads'
 * `helm.sh/chart` labels); when the cluster cannot answer now it shows what the last add-on
 * operation read back, and says so (`observed`).
 */
@Injectable()
export class ClusterAddons {
  private readonly logger = new Logger(ClusterAddons.name);

  constructor(
    private readonly db: Database,
    private readonly source: AddonClusterSource,
    private readonly catalogue: AddonCatalogue,
    private readonly rows: ClusterAddonsRepository,
    private readonly backends: ClusterBackends,
  ) {}

  async list(organizationId: string, clusterId: string): Promise<{ items: AddonView[] }> {
    const cluster = await this.source.cluster(organizationId, clusterId);
    const releases = await this.catalogue.releases();
    const chosen = new Map((await this.rows.list(this.db, { organizationId, clusterId })).map((r) => [r.name, r]));
    const live = await this.live(cluster.provider, clusterId);
    const items = addonNames(releases).map((release) => {
      const row = chosen.get(release.name);
      const enabled = row?.enabled ?? release.tier !== 'optional';
      const desired = enabled ? (addonReleaseFor(releases, release.name, cluster.version)?.version ?? null) : null;
      const seen = live?.find((a) => a.name === release.name);
      if (live && seen?.managedBy === 'distribution')
        return present(release, true, desired, row?.settings ?? {}, {
          installedVersion: null,
          status: 'bundled',
          message: 'run and upgraded by the distribution',
          managedBy: 'distribution',
          source: 'live',
        });
      if (live) {
        const status = seen
          ? seen.state === 'installed' && seen.installedVersion
            ? 'installed'
            : seen.state
          : enabled
            ? row?.status === 'pending'
              ? 'pending'
              : 'unknown'
            : 'disabled';
        return present(release, enabled, desired, row?.settings ?? {}, {
          installedVersion: seen?.installedVersion ?? null,
          status,
          message: seen?.message ?? null,
          managedBy: 'capstan',
          source: 'live',
        });
      }
      return present(release, enabled, desired, row?.settings ?? {}, {
        installedVersion: row?.installedVersion ?? null,
        status: row ? row.status : enabled ? 'unknown' : 'disabled',
        message: row?.statusMessage ?? null,
        managedBy: 'capstan',
        source: 'last_operation',
      });
    });
    return { items };
  }

  put(requester: AddonRequester, params: { cluster_id: string; name: string }, body: { settings: Record<string, unknown> }) {
    return this.change(requester, params, 'install', body.settings);
  }

  remove(requester: AddonRequester, params: { cluster_id: string; name: string }) {
    return this.change(requester, params, 'remove', {});
  }

  private async change(
    requester: AddonRequester,
    { cluster_id: clusterId, name }: { cluster_id: string; name: string },
    action: 'install' | 'remove',
    settings: Record<string, unknown>,
  ) {
    // The cluster first: another organisation's cluster is a 404 whatever the add-on.
    await this.source.cluster(requester.organizationId, clusterId);
    const releases = await this.catalogue.releases();
    const release = addonNames(releases).find((r) => r.name === name);
    if (!release) throw new NotFoundError('add-on', name);
    if (action === 'remove' && release.tier === 'always_on')
      throw new UnprocessableError('addon-always-on', `${name} is always on: every cluster runs it, so it cannot be removed`, {
        rule: 'always-on add-ons stay',
        tier: release.tier,
      });
    if (action === 'install') assertValidSettings(release, settings);
    return this.source.startChange(requester, clusterId, async (trx, cluster) => {
      const qualified = action === 'install' ? addonReleaseFor(releases, name, cluster.version) : null;
      if (action === 'install' && !qualified)
        throw new UnprocessableError('addon-incompatible', `no release of ${name} is qualified for Kubernetes ${cluster.version}`, {
          rule: 'only qualified add-on versions',
          qualified_minors: releases.filter((r) => r.name === name).map((r) => `${r.minMinor}-${r.maxMinor}`),
        });
      const target = qualified ?? release;
      const previous = (await this.rows.list(trx, { organizationId: requester.organizationId, clusterId })).find((r) => r.name === name);
      // Removing what is not there would be an operation that changes nothing. A removal that did
      // not finish leaves its row `pending` (verify_addon records `removed` only once it is gone): that one may be sent again.
      const enabledBefore = previous?.enabled ?? release.tier !== 'optional';
      if (action === 'remove' && !enabledBefore && (!previous || previous.status === 'removed'))
        throw new NotFoundError('add-on', name, `${name} is not enabled on cluster ${clusterId}: there is nothing to remove`);
      await this.rows.choose(trx, { organizationId: requester.organizationId, clusterId, name, enabled: action === 'install', settings });
      const params: AddonChangeParams = {
        addon: name,
        action,
        tier: release.tier,
        version: qualified?.version ?? null,
        chartRepo: target.chartRepo,
        chart: target.chart,
        namespace: target.namespace,
        values: action === 'install' ? helmValuesFor(target, settings) : {},
      };
      return {
        steps: ['apply_addon', 'verify_addon'],
        params: { ...params },
        audit: {
          action: action === 'install' ? 'cluster.addon.update' : 'cluster.addon.remove',
          target: { type: 'cluster_addon', id: `${clusterId}/${name}` },
          changes: {
            enabled: { before: enabledBefore, after: action === 'install' },
            settings: { before: previous?.settings ?? {}, after: settings },
            version: { before: previous?.installedVersion ?? null, after: qualified?.version ?? null },
          },
        },
      };
    });
  }

  /** The add-ons as the cluster reports them now, or null when it cannot be asked (no drivers, unreachable). */
  private async live(provider: 'rke2' | 'gke', clusterId: string): Promise<InstalledAddon[] | null> {
    try {
      return await (await this.backends.kube(provider, externalClusterName(clusterId))).listAddons();
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      this.logger.debug({ clusterId, err: error.message }, 'add-ons not readable from the cluster now; showing the last operation');
      return null;
    }
  }
}
