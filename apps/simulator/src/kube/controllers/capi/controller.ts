import {
  KubeApiError,
  type ApiServerClient,
  type ApiServerInfo,
  type ApiServerRole,
  type ControllerContext,
  type EmulatedController,
  type KubeObject,
} from '../../types';
import { BOOTSTRAP_API, CLUSTER_API, CONTROL_PLANE_API, INFRASTRUCTURE_API, LABEL, numberField, stringField } from './api';
import { reconcileCluster } from './clusters';
import type { Evictor } from './drain';
import { NO_MACHINE_FAULTS, type MachineFaultSource } from './machine-faults';
import { ClusterPass } from './pass';

const WATCHED_API_VERSIONS = new Set([CLUSTER_API, CONTROL_PLANE_API, BOOTSTRAP_API, INFRASTRUCTURE_API]);

export interface ClusterApiControllerOptions {
  faults?: MachineFaultSource;
  /** Evicts a pod of a workload cluster through its `pods/eviction` subresource. */
  evict: Evictor;
}

/**
 * Cluster API + CAPRKE2 + the Dev infrastructure provider on the management cluster, as one
 * emulated controller: a change to any of their objects reconciles the Cluster it belongs to, a
 * tick reconciles every Cluster (so timed transitions advance without events). Each pass reads
 * what it needs fresh; a Conflict or a vanished object ends the pass early and the next event or
 * tick picks it up, as a requeue would.
 */
export class ClusterApiController implements EmulatedController {
  readonly name = 'cluster-api';
  readonly roles: ApiServerRole[] = ['management'];
  private readonly faults: MachineFaultSource;
  private readonly evict: Evictor;

  constructor(options: ClusterApiControllerOptions) {
    this.faults = options.faults ?? { activeFor: async () => NO_MACHINE_FAULTS };
    this.evict = options.evict;
  }

  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext): Promise<void> {
    const clusters = await this.clustersFor(server, context);
    for (const cluster of clusters) {
      try {
        const faults = await this.faults.activeFor(cluster.metadata.name);
        await reconcileCluster(new ClusterPass(server, context, cluster, faults), this.evict);
      } catch (error) {
        if (error instanceof KubeApiError && (error.code === 409 || error.code === 404)) continue;
        throw error;
      }
    }
  }

  /**
   * What a tick reconciles: Clusters with something still to happen (a machine on its way, a
   * rollout, a deletion, a status behind its spec). A settled cluster changes only through a
   * write, whose event reconciles it, so a tick over a thousand settled clusters costs four lists
   * rather than a pass each.
   */
  private async unsettledClusters(server: ApiServerClient): Promise<KubeObject[]> {
    const [clusters, machines, deployments, controlPlanes] = await Promise.all([
      server.list(CLUSTER_API, 'Cluster'),
      server.list(CLUSTER_API, 'Machine'),
      server.list(CLUSTER_API, 'MachineDeployment'),
      server.list(CONTROL_PLANE_API, 'RKE2ControlPlane'),
    ]);
    const key = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ''}/${name ?? ''}`;
    const unsettled = new Set<string>();
    for (const machine of machines) {
      if (machine.metadata.deletionTimestamp || stringField(machine, 'status', 'phase') !== 'Running') {
        unsettled.add(key(machine.metadata.namespace, stringField(machine, 'spec', 'clusterName')));
      }
    }
    for (const deployment of deployments) {
      const replicas = numberField(deployment, 'spec', 'replicas') ?? 1;
      const status = deployment.status ?? {};
      const settled =
        !deployment.metadata.deletionTimestamp &&
        status.observedGeneration === deployment.metadata.generation &&
        status.phase === 'Running' &&
        status.replicas === replicas &&
        status.updatedReplicas === replicas;
      if (!settled) unsettled.add(key(deployment.metadata.namespace, stringField(deployment, 'spec', 'clusterName')));
    }
    for (const cp of controlPlanes) {
      const replicas = numberField(cp, 'spec', 'replicas') ?? 1;
      const status = cp.status ?? {};
      const settled =
        !cp.metadata.deletionTimestamp &&
        status.observedGeneration === cp.metadata.generation &&
        status.replicas === replicas &&
        status.readyReplicas === replicas &&
        status.updatedReplicas === replicas &&
        status.version === stringField(cp, 'spec', 'version');
      if (!settled) unsettled.add(key(cp.metadata.namespace, cp.metadata.labels?.[LABEL.clusterName]));
    }
    return clusters.filter((cluster) => {
      if (unsettled.has(key(cluster.metadata.namespace, cluster.metadata.name))) return true;
      const status = cluster.status ?? {};
      const conditions = Array.isArray(status.conditions) ? (status.conditions as { status?: string }[]) : [];
      return (
        Boolean(cluster.metadata.deletionTimestamp) ||
        status.phase !== 'Provisioned' ||
        status.observedGeneration !== cluster.metadata.generation ||
        conditions.length === 0 ||
        conditions.some((c) => c.status !== 'True')
      );
    });
  }

  private async clustersFor(server: ApiServerClient, context: ControllerContext): Promise<KubeObject[]> {
    const event = context.event;
    if (!event) return this.unsettledClusters(server);
    const object = event.object;
    const namespace = object.metadata.namespace;
    if (object.apiVersion === CLUSTER_API && object.kind === 'Cluster') {
      const current = await server.get({ apiVersion: CLUSTER_API, kind: 'Cluster', name: object.metadata.name, namespace });
      return current ? [current] : [];
    }
    const belongs = object.kind === 'Secret' || WATCHED_API_VERSIONS.has(object.apiVersion);
    if (!belongs || !namespace) return [];
    const name = object.metadata.labels?.[LABEL.clusterName] ?? stringField(object, 'spec', 'clusterName');
    if (name) {
      const cluster = await server.get({ apiVersion: CLUSTER_API, kind: 'Cluster', name, namespace });
      return cluster ? [cluster] : [];
    }
    if (object.kind === 'Secret') return [];
    // Not yet labelled (a control plane or infrastructure cluster just created): its namespace's Clusters.
    return server.list(CLUSTER_API, 'Cluster', { namespace });
  }
}
