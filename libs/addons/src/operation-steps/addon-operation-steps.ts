import type { OperationType } from '@capstan/domain';
import { OperationStepHandlers, type OperationStepProvider, type OperationStepSet, type StepContext, type StepHandler } from '@capstan/operations';
import { ProviderError } from '@capstan/providers';
import { Injectable } from '@nestjs/common';
import { ClusterAddonsRepository } from '../cluster-addons.repository';
import type { AddonChangeParams } from '../use-cases/cluster-addons';

const paramsOf = (ctx: StepContext) => ctx.operation.params as unknown as AddonChangeParams;

function steps(rows: ClusterAddonsRepository): Record<string, StepHandler> {
  return {
    /**
     * The baseline first (idempotent; it also covers namespaces created since the last run), then
     * the add-on's HelmChart applied at the catalogue version with the customer's values, or
     * deleted so helm-controller uninstalls the release.
     */
    apply_addon: async (ctx) => {
      const p = paramsOf(ctx);
      const kube = await ctx.kube();
      const baseline = await kube.ensureBaseline();
      const findings = { clusterAdminServiceAccounts: baseline.clusterAdminServiceAccounts };
      if (p.action === 'remove') return { removed: (await kube.removeAddon(p.addon)).removed, ...findings };
      const result = await kube.installAddons([
        { name: p.addon, version: p.version!, chartRepo: p.chartRepo, chart: p.chart, namespace: p.namespace, values: p.values },
      ]);
      return { applied: result.applied, bundled: result.bundled, deployedHelmController: result.deployedHelmController, ...findings };
    },
    /**
     * Waits for helm-controller's outcome and records the version the release's own workloads
     * carry, read from the cluster (docs/addons.md, "Installed versions"): never the version
     * Capstan asked for.
     */
    verify_addon: async (ctx) => {
      const p = paramsOf(ctx);
      const kube = await ctx.kube();
      const seen = await ctx.waitFor(`add-on ${p.addon} to be ${p.action === 'install' ? 'installed' : 'removed'}`, async () => {
        const entry = (await kube.listAddons()).find((a) => a.name === p.addon);
        if (p.action === 'remove') return entry && entry.managedBy === 'capstan' ? undefined : { installedVersion: null, status: 'removed' };
        if (entry?.managedBy === 'distribution') return { installedVersion: null, status: 'bundled' };
        if (entry?.state === 'failed')
          throw new ProviderError(
            `helm-controller could not install ${p.addon} ${p.version}: ${entry.message ?? 'install job failed'}`,
            false,
            'addon_install_failed',
          );
        return entry?.state === 'installed' && entry.installedVersion === p.version
          ? { installedVersion: entry.installedVersion, status: 'installed' }
          : undefined;
      });
      const now = ctx.clock.now();
      const current = (await rows.list(ctx.db, { clusterId: ctx.cluster.id })).find((r) => r.name === p.addon);
      // Optional add-ons are billed per add-on-hour from their install until their removal (docs/billing.md).
      const billedSince = p.tier !== 'optional' ? null : p.action === 'install' ? (current?.billedSince ?? now) : null;
      await rows.record(ctx.db, ctx.cluster.id, p.addon, {
        status: seen.status,
        installedVersion: seen.installedVersion,
        message: null,
        observedAt: now,
        billedSince,
      });
      return { addon: p.addon, status: seen.status, installedVersion: seen.installedVersion };
    },
  };
}

/**
 * The steps of `update_addons`, registered with the engine (`@OperationStepHandlers()`). A cancel
 * needs no `compensate`: an add-on applied half-way is the customer's choice, which the next
 * change or GET shows as the cluster reports it.
 */
@Injectable()
@OperationStepHandlers()
export class AddonOperationSteps implements OperationStepProvider {
  constructor(private readonly rows: ClusterAddonsRepository) {}

  stepSets(): Partial<Record<OperationType, OperationStepSet>> {
    return { update_addons: { steps: steps(this.rows) } };
  }
}
