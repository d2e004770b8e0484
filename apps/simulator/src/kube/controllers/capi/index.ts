import type { SubresourceRegistration } from '../../subresources';
import type { ApiServerClient, EmulatedController, KubeEmulator, KubeObject } from '../../types';
import { ClusterApiController } from './controller';
import { evictionFor, type Evictor } from './drain';
import type { MachineFaultSource } from './machine-faults';

/**
 * The emulated management cluster's controllers (Cluster API, CAPRKE2, the Dev infrastructure
 * provider). They need the simulator's machine faults and the workload clusters' eviction
 * subresource, so the simulator builds them with those (simulator.ts) rather than listing a
 * ready instance in controllers/index.ts.
 */
export { ClusterApiController } from './controller';
export { MachineFaults, MACHINE_FAULT_KINDS, type MachineFault, type MachineFaultSpec } from './machine-faults';
export { registerMachineFaultRoutes } from './machine-fault-routes';
export { EtcdBackupController, RESTORE_KIND, SNAPSHOT_FILE_API, SNAPSHOT_FILE_KIND, SNAPSHOT_KIND, TURTLES_API } from './etcd-backups';
export { BOOTSTRAP_API, CLUSTER_API, CONTROL_PLANE_API, INFRASTRUCTURE_API } from './api';

export function clusterApiControllers(deps: { faults: MachineFaultSource; evict: Evictor }): EmulatedController[] {
  return [new ClusterApiController(deps)];
}

/**
 * Evicts through the `pods/eviction` handler registered with the emulator, in process: the same
 * code a `kubectl drain` reaches over HTTP, so PodDisruptionBudgets decide alike.
 */
export function subresourceEvictor(
  emulator: KubeEmulator & { subresource(group: string, resource: string, subresource: string): SubresourceRegistration | undefined },
): Evictor {
  return async (workload: ApiServerClient, pod: KubeObject) => {
    const handler = emulator.subresource('', 'pods', 'eviction');
    if (!handler) throw new Error('no pods/eviction handler is registered: the workload controllers are not installed');
    const info = await emulator.getApiServer(workload.name);
    if (!info) return;
    await handler.handle({
      verb: 'create',
      server: workload,
      info,
      emulator,
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      body: evictionFor(pod),
      query: new URLSearchParams(),
    });
  };
}
