import { managedAddonsFor, type OperationType } from '@capstan/domain';
import {
  type AnnouncedChange,
  clusterStatusColumnsAfter,
  type EngineNodePool,
  NeedsAttentionError,
  OperationStepHandlers,
  type OperationStepProvider,
  type OperationStepSet,
  type StepContext,
  type StepHandler,
  type StepWrites,
} from '@capstan/operations';
import { newId } from '@capstan/platform';
import { type ExternalNodePoolSpec, externalClusterName, externalNodePoolName, ProviderError, type ProviderOperation } from '@capstan/providers';
import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { providerSettingsOf } from './provider-settings';

/** How long the admin credential the worker keeps for itself lives; rotated by rotate_credentials. */
const ADMIN_CREDENTIAL_TTL_SECONDS = 365 * 24 * 3600;
const DRAIN_TIMEOUT_SECONDS = 600;

/** What the provider is asked to build for a pool (also used to put a cancelled change back). */
export function externalPoolSpec(pool: Omit<EngineNodePool, 'deletedAt'>): ExternalNodePoolSpec {
  return {
    name: externalNodePoolName(pool.id),
    machineType: pool.machineType,
    count: pool.nodeCount,
    autoscaling: pool.autoscaleMin !== null && pool.autoscaleMax !== null ? { min: pool.autoscaleMin, max: pool.autoscaleMax } : null,
    version: pool.version,
    labels: pool.labels,
    taints: pool.taints as ExternalNodePoolSpec['taints'],
    maxSurge: pool.maxSurge,
    maxUnavailable: pool.maxUnavailable,
  };
}

const clusterName = (ctx: StepContext) => externalClusterName(ctx.cluster.id);
const livePools = (ctx: StepContext) => ctx.cluster.nodePools.filter((p) => p.deletedAt === null);
const targetPool = (ctx: StepContext) => {
  const pool = ctx.cluster.nodePools.find((p) => p.id === ctx.operation.targetId);
  if (!pool) throw new ProviderError(`node pool ${ctx.operation.targetId} no longer exists`, false, 'node_pool_missing');
  return pool;
};

/** `state`: what the step did before it began waiting (kept across its yields). */
async function waitForPoolReady(ctx: StepContext, pool: EngineNodePool, state?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ready = await ctx.waitFor(
    `node pool ${pool.name} to be ready`,
    async () => {
      const current = await ctx.provider.getNodePool(clusterName(ctx), externalNodePoolName(pool.id));
      if (!current) throw new ProviderError(`the provider lost node pool ${pool.name}`, false, 'node_pool_lost');
      return current.status === 'running' && current.nodes.length === current.count && current.nodes.every((n) => n.ready) ? current : undefined;
    },
    state,
  );
  return { pool: pool.id, nodes: ready.nodes.length };
}

/**
 * Rows create_cluster's steps write with their checkpoints (`StepContext.writeWithCheckpoint`):
 * the step's rows and its completion are one commit.
 */
const controlPlaneReady: StepWrites<{
  clusterId: string;
  endpoint: string | null;
  caCertificate: string | null;
  tlsServerName: string | null;
  version: string;
  now: Date;
}> = (db, guard, p) =>
  db.with('step_cluster', (q) =>
    q
      .updateTable('clusters')
      .set({ endpoint: p.endpoint, ca_certificate: p.caCertificate, tls_server_name: p.tlsServerName, current_version: p.version, updated_at: p.now })
      .where('id', '=', p.clusterId)
      .where(guard),
  );

/** The previous admin credential goes in the statement that stores the new one. */
const adminCredential: StepWrites<{ id: string; clusterId: string; organizationId: string; keyId: string; sealed: Buffer; expiresAt: Date }> = (db, guard, p) =>
  db
    .with('step_previous', (q) => q.deleteFrom('cluster_credentials').where('cluster_id', '=', p.clusterId).where('purpose', '=', 'admin').where(guard))
    .with('step_credential', (q) =>
      q
        .insertInto('cluster_credentials')
        .columns(['id', 'cluster_id', 'organization_id', 'purpose', 'key_id', 'sealed', 'expires_at'])
        .expression(
          q
            .selectNoFrom([
              sql<string>`${p.id}::text`.as('id'),
              sql<string>`${p.clusterId}::text`.as('cluster_id'),
              sql<string>`${p.organizationId}::text`.as('organization_id'),
              sql<string>`'admin'::text`.as('purpose'),
              sql<string>`${p.keyId}::text`.as('key_id'),
              sql<Buffer>`${p.sealed}::bytea`.as('sealed'),
              sql<Date>`${p.expiresAt}::timestamptz`.as('expires_at'),
            ])
            .where(guard),
        ),
    );

/**
 * Where a successful end leaves the cluster: `running`, or `degraded` with the SLA monitor's
 * reason while it holds the API server down (`clusterStatusAfterOperation`, libs/domain), decided
 * by the row as it is written (docs/operations-engine.md, "Where an operation leaves its cluster").
 */
const servingAfter = (type: OperationType) => clusterStatusColumnsAfter({ type, outcome: 'succeeded' })!;

const clusterRunning: StepWrites<{ clusterId: string; now: Date }> = (db, guard, p) =>
  db
    .with('step_pools', (q) =>
      q
        .updateTable('node_pools')
        .set({ status: 'running', updated_at: p.now })
        .where('cluster_id', '=', p.clusterId)
        .where('deleted_at', 'is', null)
        .where(guard),
    )
    .with('step_cluster', (q) =>
      q
        .updateTable('clusters')
        .set({ ...servingAfter('create_cluster'), updated_at: p.now })
        .where('id', '=', p.clusterId)
        .where(guard),
    );

const createCluster: Record<string, StepHandler> = {
  reserve_endpoint: async (ctx) => ({ externalName: clusterName(ctx) }),
  create_control_plane: async (ctx) => {
    // GKE upgrades by itself from the start: its channel, window and exclusions go with the create.
    const settings = await providerSettingsOf(ctx.db, ctx.cluster.id, ctx.clock.now());
    const created = await ctx.provider.ensureCluster({
      name: clusterName(ctx),
      flavour: ctx.cluster.provider,
      region: ctx.cluster.region,
      version: ctx.cluster.desiredVersion,
      labels: ctx.cluster.labels,
      organizationId: ctx.cluster.organizationId,
      releaseChannel: settings.releaseChannel,
      maintenance: settings.maintenance,
    });
    return { externalName: created.name };
  },
  wait_control_plane_ready: async (ctx) => {
    const ready = await ctx.waitFor('the control plane to answer', async () => {
      const current = await ctx.provider.getCluster(clusterName(ctx));
      if (!current) throw new ProviderError('the provider lost the cluster while it was being created', false, 'cluster_lost');
      return current.status === 'running' && current.endpoint ? current : undefined;
    });
    ctx.writeWithCheckpoint(controlPlaneReady, {
      clusterId: ctx.cluster.id,
      endpoint: ready.endpoint,
      caCertificate: ready.caCertificate,
      tlsServerName: ready.tlsServerName ?? null,
      version: ready.version,
      now: ctx.clock.now(),
    });
    return { endpoint: ready.endpoint };
  },
  create_node_pools: async (ctx) => {
    // Asked for once: the polls that follow (each a new run of this step) only look.
    if (!ctx.stepState.requested) for (const pool of livePools(ctx)) await ctx.provider.ensureNodePool(clusterName(ctx), externalPoolSpec(pool));
    const ready = [];
    for (const pool of livePools(ctx)) ready.push(await waitForPoolReady(ctx, pool, { requested: true }));
    return { pools: ready };
  },
  install_addons: async (ctx) => {
    const addons = managedAddonsFor(ctx.cluster.desiredVersion);
    await ctx.provider.installAddons(clusterName(ctx), addons);
    return { addons };
  },
  issue_admin_credentials: async (ctx) => {
    const credentials = await ctx.provider.issueCredentials(clusterName(ctx), ADMIN_CREDENTIAL_TTL_SECONDS);
    const id = newId('cred');
    const sealed = ctx.secrets.seal(JSON.stringify(credentials), `cluster-credential:${id}`);
    ctx.writeWithCheckpoint(adminCredential, {
      id,
      clusterId: ctx.cluster.id,
      organizationId: ctx.cluster.organizationId,
      keyId: sealed.keyId,
      sealed: sealed.sealed,
      expiresAt: credentials.expiresAt,
    });
    return { credentialId: id };
  },
  mark_running: async (ctx) => {
    ctx.writeWithCheckpoint(clusterRunning, { clusterId: ctx.cluster.id, now: ctx.clock.now() });
  },
};

const deleteCluster: Record<string, StepHandler> = {
  delete_node_pools: async (ctx) => {
    for (const pool of livePools(ctx)) await ctx.provider.deleteNodePool(clusterName(ctx), externalNodePoolName(pool.id));
  },
  delete_control_plane: async (ctx) => {
    if (!ctx.stepState.requested) await ctx.provider.deleteCluster(clusterName(ctx));
    await ctx.waitFor('the cluster to be gone', async () => ((await ctx.provider.getCluster(clusterName(ctx))) === null ? true : undefined), {
      requested: true,
    });
  },
  release_endpoint: async (ctx) => {
    await ctx.db.updateTable('clusters').set({ endpoint: null, tls_server_name: null, updated_at: ctx.clock.now() }).where('id', '=', ctx.cluster.id).execute();
  },
  revoke_credentials: async (ctx) => {
    await ctx.db.deleteFrom('cluster_credentials').where('cluster_id', '=', ctx.cluster.id).execute();
  },
  mark_deleted: async (ctx) => {
    const now = ctx.clock.now();
    await ctx.db
      .with('pools', (q) =>
        q
          .updateTable('node_pools')
          .set({ status: 'deleted', live_name: null, deleted_at: now, updated_at: now })
          .where('cluster_id', '=', ctx.cluster.id)
          .where('deleted_at', 'is', null),
      )
      .updateTable('clusters')
      .set({ status: 'deleted', live_name: null, deleted_at: now, updated_at: now })
      .where('id', '=', ctx.cluster.id)
      .execute();
  },
};

/**
 * update_cluster: the provider's copy of the cluster's settings brought to Capstan's rows, one
 * change at a time (InfrastructureDriver.applyClusterSettings), each followed to its end. The
 * settings are read again at every poll and the provider asked again once a change is done, so a
 * run resumed after a crash, a retry, or a PATCH that came meanwhile converges on what Capstan
 * holds; nothing is sent twice (the driver follows an open change, and sends none once equal).
 */
const applyClusterSettings: StepHandler = async (ctx) => {
  // The simulated cloud (PROVIDER=simulated) keeps no channel, window or labels of its own.
  if (ctx.provider.kind === 'simulated') return { changesApplied: 0 };
  const driver = ctx.infrastructure();
  const state = ctx.stepState as { operation?: ProviderOperation; applied?: number };
  await ctx.waitFor(
    'the provider to apply the cluster settings',
    async () => {
      if (state.operation) {
        const status = await driver.getOperation(state.operation);
        if (!status.done) return undefined;
        if (status.error) throw new ProviderError(`applying the cluster settings: ${status.error.message}`, status.error.retryable, status.error.code);
        state.applied = (state.applied ?? 0) + 1;
        delete state.operation;
      }
      const next = await driver.applyClusterSettings(clusterName(ctx), await providerSettingsOf(ctx.db, ctx.cluster.id, ctx.clock.now()));
      if (!next) return true;
      state.operation = next;
      return undefined;
    },
    state,
  );
  return { changesApplied: state.applied ?? 0 };
};

const clusterSettingsApplied: StepWrites<{ clusterId: string; now: Date }> = (db, guard, p) =>
  db.with('step_cluster', (q) =>
    q
      .updateTable('clusters')
      .set({ ...servingAfter('update_cluster'), updated_at: p.now })
      .where('id', '=', p.clusterId)
      .where(guard),
  );

const updateCluster: Record<string, StepHandler> = {
  apply_cluster_settings: applyClusterSettings,
  mark_running: async (ctx) => {
    ctx.writeWithCheckpoint(clusterSettingsApplied, { clusterId: ctx.cluster.id, now: ctx.clock.now() });
  },
};

const markPoolRunning: StepHandler = async (ctx) => {
  const now = ctx.clock.now();
  await ctx.db
    .with('pool', (q) => q.updateTable('node_pools').set({ status: 'running', updated_at: now }).where('id', '=', targetPool(ctx).id))
    .updateTable('clusters')
    .set({ ...servingAfter(ctx.operation.type as OperationType), updated_at: now })
    .where('id', '=', ctx.cluster.id)
    .execute();
};

const applyPool: StepHandler = async (ctx) => {
  await ctx.provider.updateNodePool(clusterName(ctx), externalPoolSpec(targetPool(ctx)));
};

const nodePools = {
  create_node_pool: {
    create_pool: async (ctx: StepContext) => {
      await ctx.provider.ensureNodePool(clusterName(ctx), externalPoolSpec(targetPool(ctx)));
    },
    wait_nodes_ready: (ctx: StepContext) => waitForPoolReady(ctx, targetPool(ctx)),
    mark_running: markPoolRunning,
  },
  update_node_pool: { apply_pool_settings: applyPool, mark_running: markPoolRunning },
  scale_node_pool: { resize_pool: applyPool, wait_nodes_ready: (ctx: StepContext) => waitForPoolReady(ctx, targetPool(ctx)), mark_running: markPoolRunning },
  delete_node_pool: {
    cordon_and_drain: async (ctx: StepContext) => {
      const pool = targetPool(ctx);
      const current = await ctx.provider.getNodePool(clusterName(ctx), externalNodePoolName(pool.id));
      for (const node of current?.nodes ?? []) {
        await ctx.provider.cordonNode(clusterName(ctx), node.name);
        const result = await ctx.provider.drainNode(clusterName(ctx), node.name, { timeoutSeconds: DRAIN_TIMEOUT_SECONDS, force: false });
        if (!result.drained) {
          const blockers = result.blockedBy.map((b) => `${b.namespace}/${b.pod} (PodDisruptionBudget ${b.podDisruptionBudget})`).join(', ');
          throw new NeedsAttentionError(
            `draining node ${node.name} is blocked by ${blockers}; relax the budget or move the workload, then ask support to retry`,
            {
              node: node.name,
              blocked_by: result.blockedBy,
            },
          );
        }
      }
      return { drained: current?.nodes.map((n) => n.name) ?? [] };
    },
    delete_pool: async (ctx: StepContext) => {
      await ctx.provider.deleteNodePool(clusterName(ctx), externalNodePoolName(targetPool(ctx).id));
    },
    mark_deleted: async (ctx: StepContext) => {
      const now = ctx.clock.now();
      await ctx.db
        .with('pool', (q) =>
          q.updateTable('node_pools').set({ status: 'deleted', live_name: null, deleted_at: now, updated_at: now }).where('id', '=', targetPool(ctx).id),
        )
        .updateTable('clusters')
        .set({ ...servingAfter('delete_node_pool'), updated_at: now })
        .where('id', '=', ctx.cluster.id)
        .execute();
    },
  },
} satisfies Record<string, Record<string, StepHandler>>;

/**
 * A cancelled create leaves nothing at the provider: the half-built cluster or pool is deleted,
 * and an admin credential it already issued (a year-long one) is revoked with it.
 */
const deleteCreatedCluster = async (ctx: StepContext) => {
  // Capstan's copy of the credential and the endpoint go first: neither may outlive a provider
  // call that fails below.
  await ctx.db
    .with('credentials', (q) => q.deleteFrom('cluster_credentials').where('cluster_id', '=', ctx.cluster.id))
    .updateTable('clusters')
    .set({ endpoint: null, ca_certificate: null, updated_at: ctx.clock.now() })
    .where('id', '=', ctx.cluster.id)
    .execute();
  await ctx.provider.deleteCluster(clusterName(ctx));
  return true;
};
const deleteCreatedPool = async (ctx: StepContext) => {
  await ctx.provider.deleteNodePool(clusterName(ctx), externalNodePoolName(ctx.operation.targetId));
  return true;
};
/** A cancelled change of a pool's spec is applied back as it was before the request. */
const applyPreviousPool = async (ctx: StepContext) => {
  const previous = (ctx.operation.params as AnnouncedChange | null)?.previousPool;
  const pool = ctx.cluster.nodePools.find((p) => p.id === ctx.operation.targetId);
  if (!previous || !pool) return false;
  const restored = { ...pool, ...previous, labels: previous.labels as Record<string, string>, taints: previous.taints as unknown[] };
  await ctx.provider.updateNodePool(clusterName(ctx), externalPoolSpec(restored));
  return true;
};

/**
 * The steps of the operations on clusters and node pools, registered with the engine
 * (`@OperationStepHandlers()`, discovered at the worker's boot). They may query the clusters
 * library's own tables (clusters, node_pools, cluster_credentials) directly.
 */
@Injectable()
@OperationStepHandlers()
export class ClusterOperationSteps implements OperationStepProvider {
  stepSets(): Partial<Record<OperationType, OperationStepSet>> {
    return {
      create_cluster: {
        steps: createCluster,
        compensate: deleteCreatedCluster,
        compensateOnFailure: true,
        // The cluster takes its node pools with it.
        leftovers: (ctx) => [{ kind: 'cluster', cluster: clusterName(ctx) }],
      },
      delete_cluster: { steps: deleteCluster },
      update_cluster: { steps: updateCluster },
      create_node_pool: {
        steps: nodePools.create_node_pool,
        compensate: deleteCreatedPool,
        compensateOnFailure: true,
        leftovers: (ctx) => [{ kind: 'node_pool', cluster: clusterName(ctx), name: externalNodePoolName(ctx.operation.targetId) }],
      },
      update_node_pool: { steps: nodePools.update_node_pool, compensate: applyPreviousPool },
      scale_node_pool: { steps: nodePools.scale_node_pool, compensate: applyPreviousPool },
      delete_node_pool: { steps: nodePools.delete_node_pool },
    };
  }
}
