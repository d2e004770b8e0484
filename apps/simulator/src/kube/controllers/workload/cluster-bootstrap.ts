import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController } from '../../types';
import { NAMESPACE, NODE, sameJson } from './model';
import { withSchedulingTaint } from './nodes';
import { createIfAbsent, racing, reconcileScope } from './runtime';
import { namespaceDefaults, systemObjects } from './system-workloads';

/**
 * A workload API server's own start-up: the four system namespaces and the distribution's
 * kube-system workloads (system-workloads.ts), once per API server; afterwards every new namespace
 * gets its `default` ServiceAccount and `kube-root-ca.crt` ConfigMap.
 */
export const clusterBootstrapController: EmulatedController = {
  name: 'workload/cluster-bootstrap',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, info: ApiServerInfo, context: ControllerContext) {
    const caCertificatePem = context.emulator.caCertificatePem;
    const { event } = context;
    if (event) {
      if (event.server !== server.name || event.object.kind !== 'Namespace' || event.type !== 'ADDED' || event.object.metadata.deletionTimestamp) return;
      for (const object of namespaceDefaults(event.object.metadata.name, caCertificatePem)) await createIfAbsent(server, object);
      return;
    }
    if (!reconcileScope(server, context, [], 'workload/cluster-bootstrap')) return;
    const kubeSystem = await server.get({ ...NAMESPACE, name: 'kube-system' });
    const key = `${server.name}/${kubeSystem?.metadata.uid ?? ''}`;
    if (kubeSystem && bootstrapped.has(key)) return;
    for (const object of systemObjects(info, caCertificatePem)) await createIfAbsent(server, object);
    const created = await server.get({ ...NAMESPACE, name: 'kube-system' });
    if (created) bootstrapped.add(`${server.name}/${created.metadata.uid}`);
  },
};

/** API servers (by name and kube-system uid) this process has bootstrapped; a re-created server has a new uid. */
const bootstrapped = new Set<string>();

/**
 * The node lifecycle controller's share that is not about readiness: a cordon
 * (`spec.unschedulable`) carries the `node.kubernetes.io/unschedulable:NoSchedule` taint.
 */
export const nodeTaintController: EmulatedController = {
  name: 'workload/node-taints',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    if (!reconcileScope(server, context, ['Node'], 'workload/node-taints')) return;
    if (context.event?.type === 'DELETED') return;
    // The event's copy may be stale; patching taints from it could drop one added since.
    const current = context.event ? await server.get({ ...NODE, name: context.event.object.metadata.name }) : null;
    const nodes = context.event ? (current ? [current] : []) : await server.list(NODE.apiVersion, NODE.kind);
    for (const node of nodes) {
      const next = withSchedulingTaint(node, context.now());
      if (!sameJson(next.spec, node.spec)) {
        await racing(() =>
          server.mergePatch(
            { ...NODE, name: node.metadata.name },
            { metadata: { resourceVersion: node.metadata.resourceVersion }, spec: { taints: next.spec?.['taints'] ?? null } },
          ),
        );
      }
    }
  },
};
