import { writeFileSync } from 'node:fs';
import { MANAGEMENT_API_SERVER, type RunningSimulator } from './simulator';

export const DEFAULT_CLUSTERS_NAMESPACE = 'capstan-clusters';

/**
 * What an operator does once to a management cluster before Capstan uses it: create the namespace
 * the RKE2 driver keeps clusters in, and hand the kubeconfig over (written to `kubeconfigPath`
 * when given; the standalone simulator writes it to a volume the drivers' processes mount).
 */
export async function prepareManagementCluster(simulator: RunningSimulator, options: { kubeconfigPath?: string; namespace: string }): Promise<void> {
  if (options.kubeconfigPath) writeFileSync(options.kubeconfigPath, simulator.managementKubeconfig, { mode: 0o600 });
  const management = simulator.kube.server(MANAGEMENT_API_SERVER.name);
  if (!(await management.get({ apiVersion: 'v1', kind: 'Namespace', name: options.namespace }))) {
    await management.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: options.namespace } });
  }
}

/**
 * The settings that point Capstan's real drivers at this simulated cloud, as an installation
 * would point them at its own management cluster and at Google: RKE2 through Cluster API objects
 * on the emulated management cluster (its kubeconfig written to `kubeconfigPath`, and the
 * namespace the driver keeps clusters in, which an operator creates once), GKE through the
 * Container API emulator with its token endpoint. `npm start` and the end-to-end tests use it.
 */
export async function driverEnvironment(
  simulator: RunningSimulator,
  options: { kubeconfigPath: string; apiToken: string; namespace?: string },
): Promise<Record<string, string>> {
  const namespace = options.namespace ?? DEFAULT_CLUSTERS_NAMESPACE;
  await prepareManagementCluster(simulator, { kubeconfigPath: options.kubeconfigPath, namespace });
  return {
    PROVIDER: 'drivers',
    RKE2_MANAGEMENT_KUBECONFIG: options.kubeconfigPath,
    RKE2_NAMESPACE: namespace,
    GKE_PROJECT: 'capstan-local',
    GKE_API_ENDPOINT: simulator.gkeUrl,
    // The emulator serves Backup for GKE on the same port.
    GKE_BACKUP_API_ENDPOINT: simulator.gkeUrl,
    GKE_TOKEN_URL: `${simulator.gkeUrl}/token`,
    GKE_CLIENT_SECRET: options.apiToken,
    // One listener serves every emulated API server and picks it by name (SNI).
    GKE_TLS_SERVER_NAME_FROM_DNS_ENDPOINT: 'true',
  };
}
