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
    if (event?.server === server.name && event.object.kind === 'Namespace') {
      if (event.type === 'ADDED' && !event.object.metadata.deletionTimestamp && isBootstrapped(server.name)) {
        for (const object of namespaceDefaults(event.object.metadata.name, caCertificatePem)) await createIfAbsent(server, object);
      }
      return;
    }
    // The cluster comes up with its first node (RKE2's helm-controller runs on a server node):
    // until then it has only the namespaces kube-apiserver makes, and a fleet of node-less API
    // servers costs no writes at all.
    if (!reconcileScope(server, context, ['Node'], 'workload/cluster-bootstrap')) return;
    const kubeSystem = await server.get({ ...NAMESPACE, name: 'kube-system' });
    if (!kubeSystem) return;
    if (bootstrapped.get(server.name) !== kubeSystem.metadata.uid) {
      if ((await server.list(NODE.apiVersion, NODE.kind)).length === 0) return;
      for (const object of systemObjects(info, caCertificatePem)) await createIfAbsent(server, object);
      bootstrapped.set(server.name, kubeSystem.metadata.uid!);
      await fillNamespaces(server, caCertificatePem);
    } else if (!event) {
      await fillNamespaces(server, caCertificatePem);
    }
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

/** API servers this process has bootstrapped, by name, to their kube-system uid (a re-created server has a new one). */
const bootstrapped = new Map<string, string>();

const isBootstrapped = (server: string) => bootstrapped.has(server);
