import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController } from '../../types';
import { NAMESPACE, NODE } from './model';
import { createIfAbsent, reconcileScope } from './runtime';
import { namespaceDefaults, systemObjects } from './system-workloads';

/**
 * A workload API server's own start-up: the four system namespaces and the distribution's
 * kube-system workloads (system-workloads.ts), once per API server when its first node joins;
 * every new namespace gets its `default` ServiceAccount and `kube-root-ca.crt` ConfigMap.
 */
export const clusterBootstrapController: EmulatedController = {
  name: 'workload/cluster-bootstrap',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, info: ApiServerInfo, context: ControllerContext) {
    const caCertificatePem = context.emulator.caCertificatePem;
    const { event } = context;
    if (event?.server === server.name && event.object.kind === 'Namespace' && event.type === 'ADDED' && !event.object.metadata.deletionTimestamp) {
      for (const object of namespaceDefaults(event.object.metadata.name, caCertificatePem)) await createIfAbsent(server, object);
      return;
    }
    // The distribution installs its system workloads once the first node has joined (RKE2's
    // helm-controller runs on a server node), so a fleet of node-less API servers stays idle.
    if (!reconcileScope(server, context, ['Node'], 'workload/cluster-bootstrap')) return;
    const kubeSystem = await server.get({ ...NAMESPACE, name: 'kube-system' });
    if (!(kubeSystem && bootstrapped.has(`${server.name}/${kubeSystem.metadata.uid}`)) && (await server.list(NODE.apiVersion, NODE.kind)).length > 0) {
      for (const object of systemObjects(info, caCertificatePem)) await createIfAbsent(server, object);
      const created = await server.get({ ...NAMESPACE, name: 'kube-system' });
      if (created) bootstrapped.add(`${server.name}/${created.metadata.uid}`);
    }
    if (!event) await fillNamespaces(server, caCertificatePem);
  },
};

/** A sweep's catch-up: namespaces whose ADDED event this process never handled get their defaults. */
async function fillNamespaces(server: ApiServerClient, caCertificatePem: string): Promise<void> {
  const namespaces = (await server.list(NAMESPACE.apiVersion, NAMESPACE.kind)).filter((ns) => !ns.metadata.deletionTimestamp);
  const accounts = new Set((await server.list('v1', 'ServiceAccount', { fieldSelector: 'metadata.name=default' })).map((sa) => sa.metadata.namespace));
  for (const ns of namespaces) {
    if (accounts.has(ns.metadata.name)) continue;
    for (const object of namespaceDefaults(ns.metadata.name, caCertificatePem)) await createIfAbsent(server, object);
  }
}

/** API servers (by name and kube-system uid) this process has bootstrapped; a re-created server has a new uid. */
const bootstrapped = new Set<string>();
