import {
  KubeApiError,
  type ApiServerClient,
  type ApiServerInfo,
  type ApiServerRole,
  type ControllerContext,
  type EmulatedController,
  type KubeObject,
} from '../../types';
import { BOOTSTRAP_API, CLUSTER_API, CONTROL_PLANE_API, INFRASTRUCTURE_API, LABEL, stringField } from './api';
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

  private async clustersFor(server: ApiServerClient, context: ControllerContext): Promise<KubeObject[]> {
    const event = context.event;
    if (!event) return server.list(CLUSTER_API, 'Cluster');
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
