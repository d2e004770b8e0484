import {
  type MaintenanceWindowSpec,
  managedAddonsFor,
  MIN_WINDOW_LEFT_FOR_A_STEP_MS,
  type OperationType,
  type UpgradeStepSpec,
  upgradeStepSpec,
  windowGate,
} from '@capstan/domain';
import { OperationStepHandlers, type OperationStepProvider, type OperationStepSet, type StepContext, type StepHandler } from '@capstan/operations';
import { externalClusterName, externalNodePoolName, type InfrastructureDriver, type ProviderOperation, ProviderError } from '@capstan/providers';
import { Injectable } from '@nestjs/common';
import { UpgradeVersions } from './upgrade-versions';

/** The spec of the running step, from the plan kept in the operation's params. */
function specOf<K extends UpgradeStepSpec['kind']>(ctx: StepContext, kind: K): Extract<UpgradeStepSpec, { kind: K }> {
  const spec = upgradeStepSpec(ctx.operation.params, ctx.step.name);
  if (!spec || spec.kind !== kind) throw new ProviderError(`step ${ctx.step.name} is not in the operation's plan`, false, 'step_not_planned');
  return spec as Extract<UpgradeStepSpec, { kind: K }>;
}

/**
 * Starts a provider-side change once and follows it to its end (docs/upgrades.md, "Running an
 * upgrade"): the ProviderOperation `start` returns is recorded with the wait, so every later poll,
 * by this worker or one that took over after a restart, follows that same change and never asks
 * the provider for a second one.
 */
async function startAndFollow(ctx: StepContext, what: string, start: (driver: InfrastructureDriver) => Promise<ProviderOperation>): Promise<ProviderOperation> {
  const driver = ctx.infrastructure();
  const started = ctx.stepState.operation as ProviderOperation | undefined;
  // Only a step that has not started its change waits for a window: one already rolling is never paused.
  if (!started) await inWindow(ctx);
  const handle = started ?? (await start(driver));
  const status = await ctx.waitFor(
    what,
    async () => {
      const current = await driver.getOperation(handle);
      return current.done ? current : undefined;
    },
    { operation: handle },
  );
  if (status.error) throw new ProviderError(`${what} failed: ${status.error.message}`, status.error.retryable, status.error.code ?? 'upgrade_failed');
  return handle;
}

/**
 * Work bound to a maintenance window (`start: next_window`, fleet upgrades: the operation's params
 * carry the window) starts a step only inside an occurrence with enough of it left; otherwise the
 * step yields until the next occurrence (docs/upgrades.md, "Starting in the next window"). The
 * check is at a step boundary, before the step starts anything, so a pool's rollout is never cut.
 */
async function inWindow(ctx: StepContext): Promise<void> {
  const window = (ctx.operation.params as { window?: MaintenanceWindowSpec } | null)?.window;
  if (!window) return;
  const gate = windowGate(window, ctx.clock.now(), MIN_WINDOW_LEFT_FOR_A_STEP_MS);
  if (gate && !gate.open) await ctx.waitUntil(`the next maintenance window (${gate.opensAt.toISOString()})`, gate.opensAt);
}

function steps(versions: UpgradeVersions): Record<string, StepHandler> {
  return {
    preflight_removed_apis: async (ctx) => {
      const spec = specOf(ctx, 'preflight_removed_apis');
      const scan = await (await ctx.kube()).scanRemovedApis(spec.target);
      if (scan.findings.length > 0) {
        const named = scan.findings.map((f) => `${f.kind} ${f.namespace ? `${f.namespace}/` : ''}${f.name} (${f.apiVersion}, removed in ${f.removedIn})`);
        throw new ProviderError(
          `objects are written through APIs that ${spec.target} no longer serves; migrate them first: ${named.join(', ')}`,
          false,
          'removed_apis_in_use',
        );
      }
      return { clusterVersion: scan.clusterVersion, target: spec.target, scanned: scan.scanned, findings: [] };
    },
    upgrade_control_plane: async (ctx) => {
      const spec = specOf(ctx, 'upgrade_control_plane');
      const cluster = externalClusterName(ctx.cluster.id);
      const operation = await startAndFollow(ctx, `the control plane to reach ${spec.to}`, (driver) => driver.upgradeControlPlane(cluster, spec.to));
      await versions.controlPlaneAt(ctx.cluster.id, spec.to);
      return { operation, version: spec.to };
    },
    upgrade_node_pool: async (ctx) => {
      const spec = specOf(ctx, 'upgrade_node_pool');
      const cluster = externalClusterName(ctx.cluster.id);
      const pool = externalNodePoolName(spec.poolId);
      const operation = await startAndFollow(ctx, `node pool ${spec.pool} to reach ${spec.to}`, (driver) => driver.upgradeNodePool(cluster, pool, spec.to));
      await versions.nodePoolAt(ctx.cluster.id, spec.poolId, spec.to);
      return { operation, pool: spec.poolId, version: spec.to };
    },
    upgrade_addons: async (ctx) => {
      const spec = specOf(ctx, 'upgrade_addons');
      await inWindow(ctx);
      // The whole set at the new minor's versions: applying it again changes nothing. What the
      // distribution bundles (CoreDNS, Cilium on RKE2 and GKE) moved with its control plane.
      const result = await (await ctx.kube()).installAddons(managedAddonsFor(spec.version));
      return { version: spec.version, changes: spec.changes, applied: result.applied, bundled: result.bundled };
    },
    mark_upgraded: async (ctx) => {
      const spec = specOf(ctx, 'mark_upgraded');
      await versions.upgraded(ctx.cluster.id, spec.version);
      return { version: spec.version };
    },
  };
}

/**
 * The steps of `upgrade_cluster`, registered with the engine (`@OperationStepHandlers()`). A
 * cancel needs no `compensate`: it stops at a step boundary, and a finished hop is never undone
 * (Kubernetes does not downgrade; the versions each step reached are recorded as it finishes).
 */
@Injectable()
@OperationStepHandlers()
export class UpgradeOperationSteps implements OperationStepProvider {
  constructor(private readonly versions: UpgradeVersions) {}

  stepSets(): Partial<Record<OperationType, OperationStepSet>> {
    return { upgrade_cluster: { steps: steps(this.versions) } };
  }
}
