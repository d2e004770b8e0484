import {
  type MaintenanceWindowSpec,
  managedAddonsFor,
  MIN_WINDOW_LEFT_FOR_A_STEP_MS,
  type OperationType,
  type UpgradeStepSpec,
  upgradeStepSpec,
  windowGate,
} from '@capstan/domain';
import {
  NeedsAttentionError,
  OperationStepHandlers,
  type OperationStepProvider,
  type OperationStepSet,
  type StepContext,
  type StepHandler,
} from '@capstan/operations';
import { EngineConfig } from '@capstan/platform';
import {
  externalClusterName,
  externalNodePoolName,
  type InfrastructureDriver,
  type PendingDrain,
  type ProviderOperation,
  type ProviderOperationStatus,
  ProviderError,
} from '@capstan/providers';
import { Injectable } from '@nestjs/common';
import { UpgradeVersions } from './upgrade-versions';

/** The spec of the running step, from the plan kept in the operation's params. */
function specOf<K extends UpgradeStepSpec['kind']>(ctx: StepContext, kind: K): Extract<UpgradeStepSpec, { kind: K }> {
  const spec = upgradeStepSpec(ctx.operation.params, ctx.step.name);
  if (!spec || spec.kind !== kind) throw new ProviderError(`step ${ctx.step.name} is not in the operation's plan`, false, 'step_not_planned');
  return spec as Extract<UpgradeStepSpec, { kind: K }>;
}

/** A step's node-level progress, as the operation shows it (docs/upgrades.md, "Node by node"). */
export interface RolloutProgress {
  summary: string;
  nodes?: ProviderOperationStatus['nodes'];
}

function progressOf(status: ProviderOperationStatus): RolloutProgress | undefined {
  if (!status.progress) return undefined;
  return { summary: status.progress, ...(status.nodes ? { nodes: status.nodes } : {}) };
}

/** A step failure that adds structured details to the operation's error (the engine spreads `details`). */
export class UpgradeStepError extends ProviderError {
  constructor(
    message: string,
    retryable: boolean,
    code: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message, retryable, code);
    this.name = 'UpgradeStepError';
  }
}

/**
 * Starts a provider-side change once and follows it to its end (docs/upgrades.md, "Running an
 * upgrade"): the ProviderOperation `start` returns is recorded with the wait, so every later poll,
 * by this worker or one that took over after a restart, follows that same change and never asks
 * the provider for a second one. Each poll records the rollout's node-level progress with the wait.
 *
 * A drain the provider has not finished within `drainTimeoutMs` pauses the operation as
 * `needs_attention`, naming the pods and PodDisruptionBudgets that hold it (docs/upgrades.md,
 * "Drains"). The provider goes on draining meanwhile and never forces it; the timeout counts from
 * the later of the drain's start and this step's watch, so a resumed step gives the drain a full
 * timeout again before it asks a person once more.
 */
async function startAndFollow(
  ctx: StepContext,
  what: string,
  drainTimeoutMs: number,
  start: (driver: InfrastructureDriver) => Promise<ProviderOperation>,
): Promise<{ operation: ProviderOperation; progress?: RolloutProgress }> {
  const driver = ctx.infrastructure();
  const started = ctx.stepState.operation as ProviderOperation | undefined;
  // Only a step that has not started its change waits for a window: one already rolling is never paused.
  if (!started) await inWindow(ctx);
  const handle = started ?? (await start(driver));
  const watchingSince = (ctx.stepState.watchingSince as string | undefined) ?? ctx.clock.now().toISOString();
  const state: Record<string, unknown> = { operation: handle, watchingSince };
  const status = await ctx.waitFor(
    what,
    async () => {
      const current = await driver.getOperation(handle);
      const progress = progressOf(current);
      if (progress) state.progress = progress;
      if (!current.done) stopWhenDrainBlocked(ctx, what, current, progress, watchingSince, drainTimeoutMs);
      return current.done ? current : undefined;
    },
    state,
  );
  if (status.error) throw new ProviderError(`${what} failed: ${status.error.message}`, status.error.retryable, status.error.code ?? 'upgrade_failed');
  return { operation: handle, progress: progressOf(status) };
}

function stopWhenDrainBlocked(
  ctx: StepContext,
  what: string,
  status: ProviderOperationStatus,
  progress: RolloutProgress | undefined,
  watchingSince: string,
  drainTimeoutMs: number,
): void {
  const now = ctx.clock.now().getTime();
  const overdue = (status.drains ?? []).filter((d) => now - Math.max(Date.parse(d.since), Date.parse(watchingSince)) >= drainTimeoutMs);
  if (overdue.length === 0) return;
  // A timeout under a minute (UPGRADE_DRAIN_TIMEOUT_MS is a setting) is said in seconds, not rounded to "1 min".
  const waited = drainTimeoutMs < 60_000 ? `${Math.round(drainTimeoutMs / 1000)} s` : `${Math.round(drainTimeoutMs / 60_000)} min`;
  throw new NeedsAttentionError(
    `${what}: ${overdue.map((d) => describeDrain(d)).join('; ')}. The drain has not finished in ${waited} and is never forced: ` +
      `relax the PodDisruptionBudget (or add replicas), then POST /v1/operations/${ctx.operation.id}/resume; or cancel the operation`,
    {
      reason: 'drain_blocked',
      step: ctx.step.name,
      drains: overdue.map((d) => ({ machine: d.machine, node: d.node, since: d.since, pods: d.pods, budgets: d.budgets })),
      ...(progress ? { progress } : {}),
    },
  );
}

function describeDrain(drain: PendingDrain): string {
  const node = drain.node ?? drain.machine;
  const budgets = drain.budgets.map((b) => `${b.namespace}/${b.name}`);
  const pods = drain.pods.map((p) => `${p.namespace}/${p.name}`);
  if (budgets.length > 0)
    return `draining node ${node} is blocked by PodDisruptionBudget ${budgets.join(', ')}, which allows no eviction of pod ${pods.join(', ')}`;
  return `draining node ${node} has not finished${pods.length > 0 ? `: pods ${pods.join(', ')} are still on it` : ''}`;
}

/**
 * The backup taken before the hop to `version`, when the operation's plan has one (a
 * `backup_before_hop` step that finished): what a failed control-plane hop names to restore from,
 * since a control plane is never rolled back otherwise (docs/upgrades.md, "When an upgrade fails").
 */
function backupBeforeHop(ctx: StepContext, version: string): Record<string, unknown> | null {
  const names = Object.keys(ctx.checkpoints).filter((name) => name.split(':')[0] === 'backup_before_hop');
  const name = names.find((n) => n.endsWith(`:${version}`)) ?? names[names.length - 1];
  if (!name) return null;
  const checkpoint = ctx.checkpoints[name];
  return { step: name, ...(checkpoint && typeof checkpoint === 'object' ? (checkpoint as Record<string, unknown>) : {}) };
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

function steps(versions: UpgradeVersions, drainTimeoutMs: number): Record<string, StepHandler> {
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
      let followed: Awaited<ReturnType<typeof startAndFollow>>;
      try {
        followed = await startAndFollow(ctx, `the control plane to reach ${spec.to}`, drainTimeoutMs, (driver) => driver.upgradeControlPlane(cluster, spec.to));
      } catch (error) {
        // A control plane is not rolled back by Capstan: a failed hop names the backup taken before it.
        if (!(error instanceof ProviderError) || error.retryable) throw error;
        const backup = backupBeforeHop(ctx, spec.to);
        throw new UpgradeStepError(
          `${error.message}. ${backup ? `The backup taken before this hop is ${String(backup.backupId ?? backup.backup_id ?? backup.step)}; restoring it is how the control plane goes back` : 'No backup was taken before this hop'}`,
          false,
          error.code,
          { control_plane: { from: spec.from, to: spec.to }, backup_before_hop: backup },
        );
      }
      await versions.controlPlaneAt(ctx.cluster.id, spec.to);
      return { operation: followed.operation, version: spec.to, ...(followed.progress ? { progress: followed.progress } : {}) };
    },
    upgrade_node_pool: async (ctx) => {
      const spec = specOf(ctx, 'upgrade_node_pool');
      const cluster = externalClusterName(ctx.cluster.id);
      const pool = externalNodePoolName(spec.poolId);
      const followed = await startAndFollow(ctx, `node pool ${spec.pool} to reach ${spec.to}`, drainTimeoutMs, (driver) =>
        driver.upgradeNodePool(cluster, pool, spec.to),
      );
      await versions.nodePoolAt(ctx.cluster.id, spec.poolId, spec.to);
      return { operation: followed.operation, pool: spec.poolId, version: spec.to, ...(followed.progress ? { progress: followed.progress } : {}) };
    },
    upgrade_system_pool: async (ctx) => {
      // The provider's own pool (GKE's capstan-system) has no row of its own: it follows the hop.
      const spec = specOf(ctx, 'upgrade_system_pool');
      const cluster = externalClusterName(ctx.cluster.id);
      const followed = await startAndFollow(ctx, `system node pool ${spec.pool} to reach ${spec.to}`, drainTimeoutMs, (driver) =>
        driver.upgradeNodePool(cluster, spec.pool, spec.to),
      );
      return { operation: followed.operation, pool: spec.pool, version: spec.to, ...(followed.progress ? { progress: followed.progress } : {}) };
    },
    rollback_node_pool: async (ctx) => {
      const spec = specOf(ctx, 'rollback_node_pool');
      const cluster = externalClusterName(ctx.cluster.id);
      const pool = externalNodePoolName(spec.poolId);
      const followed = await startAndFollow(ctx, `node pool ${spec.pool} to go back to ${spec.to}`, drainTimeoutMs, (driver) =>
        driver.rollbackNodePool(cluster, pool, spec.to),
      );
      await versions.nodePoolAt(ctx.cluster.id, spec.poolId, spec.to);
      return { operation: followed.operation, pool: spec.poolId, version: spec.to, ...(followed.progress ? { progress: followed.progress } : {}) };
    },
    upgrade_addons: async (ctx) => {
      const spec = specOf(ctx, 'upgrade_addons');
      await inWindow(ctx);
      // The whole set at the new minor's versions: applying it again changes nothing. What the
      // distribution bundles (CoreDNS, Cilium on RKE2 and GKE) moved with its control plane.
      const addons = (await versions.addonsAt(ctx.cluster.id, spec.version)) ?? managedAddonsFor(spec.version);
      const result = await (await ctx.kube()).installAddons(addons);
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
 * (Kubernetes does not downgrade; the versions each step reached are recorded as it finishes). A
 * pool left half-way is moved back by a rollback the customer asks for (`rollback_node_pool`).
 */
@Injectable()
@OperationStepHandlers()
export class UpgradeOperationSteps implements OperationStepProvider {
  constructor(
    private readonly versions: UpgradeVersions,
    private readonly engine: EngineConfig,
  ) {}

  stepSets(): Partial<Record<OperationType, OperationStepSet>> {
    return { upgrade_cluster: { steps: steps(this.versions, this.engine?.drainTimeoutMs ?? 900_000) } };
  }
}
