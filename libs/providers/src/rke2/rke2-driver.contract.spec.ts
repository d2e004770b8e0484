import { type KubeObject, type RunningSimulator, startSimulator } from '@capstan/simulator';
import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DriverContractHarness, type DriverWrite, describeDriverContract } from '../contract/driver-contract';
import {
  BOOTSTRAP_API_VERSION,
  CAPI_CLUSTER_NAME_LABEL,
  CLUSTER_API_VERSION,
  CONTROL_PLANE_API_VERSION,
  DEV_INFRASTRUCTURE_API_VERSION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
} from './api-versions';
import { clusterObjectNames } from './naming';
import { Rke2Driver } from './rke2-driver';
import { DEFAULT_RKE2_SETTINGS, devInfrastructure, type Rke2DriverSettings } from './rke2-settings';
import { KubeFaultProxy, type KubeWrite } from './testing/kube-fault-proxy';

const NAMESPACE = 'capstan-contract';

/** The kinds the driver writes, and those Cluster API makes from them (for "nothing left"). */
const WRITTEN_KINDS = [
  [CLUSTER_API_VERSION, 'Cluster'],
  [CONTROL_PLANE_API_VERSION, 'RKE2ControlPlane'],
  [DEV_INFRASTRUCTURE_API_VERSION, 'DevCluster'],
  [DEV_INFRASTRUCTURE_API_VERSION, 'DevMachineTemplate'],
  [CLUSTER_API_VERSION, 'MachineDeployment'],
  [BOOTSTRAP_API_VERSION, 'RKE2ConfigTemplate'],
] as const;
const DERIVED_KINDS = [
  [CLUSTER_API_VERSION, 'MachineSet'],
  [CLUSTER_API_VERSION, 'Machine'],
  [DEV_INFRASTRUCTURE_API_VERSION, 'DevMachine'],
  [BOOTSTRAP_API_VERSION, 'RKE2Config'],
  ['v1', 'Secret'],
] as const;

/** Which requests each driver call makes, by resource: a fault armed for a call hits its next one. */
const WRITES: Record<DriverWrite, (cluster: string, write: KubeWrite) => boolean> = {
  ensureCluster: (c, w) =>
    w.method === 'POST' && ['devclusters', 'devmachinetemplates', 'rke2controlplanes', 'clusters'].includes(w.resource) && w.name.startsWith(c),
  deleteCluster: (c, w) => w.method === 'DELETE' && w.resource === 'clusters' && w.name === c,
  ensureNodePool: (c, w) =>
    w.method === 'POST' && ['rke2configtemplates', 'devmachinetemplates', 'machinedeployments'].includes(w.resource) && w.name.startsWith(`${c}-`),
  updateNodePool: (c, w) => w.method === 'PATCH' && w.resource === 'machinedeployments' && w.name.startsWith(`${c}-`),
  deleteNodePool: (c, w) => w.method === 'DELETE' && w.resource === 'machinedeployments' && w.name.startsWith(`${c}-`),
  upgradeControlPlane: (c, w) => w.method === 'PATCH' && w.resource === 'rke2controlplanes' && w.name === c,
  upgradeNodePool: (c, w) => w.method === 'PATCH' && w.resource === 'machinedeployments' && w.name.startsWith(`${c}-`),
};

/** The latest patches of two consecutive RKE2 minors Capstan offers (the catalogue's data). */
function catalogueVersions(): { initial: string; next: string } {
  const seed = JSON.parse(readFileSync(join(__dirname, '../../../domain/src/catalogue/kubernetes-versions.seed.json'), 'utf8')) as {
    entries: { provider: string; minor: string; latestPatch: string; preview?: boolean }[];
  };
  const minor = (m: string) => seed.entries.find((e) => e.provider === 'rke2' && e.minor === m)!.latestPatch;
  return { initial: minor('1.35'), next: minor('1.36') };
}

describeDriverContract('rke2', async (): Promise<DriverContractHarness> => {
  const db: TestDatabase = await createTestDatabase();
  const simulator: RunningSimulator = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, stepDelayMs: 20 });
  const management = simulator.kube.server('management');
  // The namespace is the installation's to make (with the driver's RBAC), not the driver's.
  await management.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });

  const admin = new KubeConfig();
  admin.loadFromString(simulator.managementKubeconfig);
  const proxy = await KubeFaultProxy.start({
    upstream: admin.getCurrentCluster()!.server,
    servername: admin.getCurrentCluster()!.tlsServerName!,
    caCertificate: simulator.caCertificate,
  });
  const viaProxy = new KubeConfig();
  viaProxy.loadFromOptions({
    // Plain HTTP to the proxy on loopback (client-node wants skipTLSVerify for it); the proxy speaks TLS to the emulator.
    clusters: [{ name: 'management', server: proxy.url, skipTLSVerify: true }],
    users: [{ name: 'capstan', token: admin.getCurrentUser()!.token! }],
    contexts: [{ name: 'capstan', cluster: 'management', user: 'capstan' }],
    currentContext: 'capstan',
  });
  const settings: Rke2DriverSettings = { ...DEFAULT_RKE2_SETTINGS, namespace: NAMESPACE, infrastructure: devInfrastructure() };

  const objects = async (kinds: readonly (readonly [string, string])[], cluster: string, only?: (o: KubeObject) => boolean) => {
    const found: string[] = [];
    for (const [apiVersion, kind] of kinds) {
      for (const object of await management.list(apiVersion, kind, { namespace: NAMESPACE })) {
        const belongs = object.metadata.name.startsWith(cluster) || object.metadata.labels?.[CAPI_CLUSTER_NAME_LABEL] === cluster;
        if (belongs && (!only || only(object))) found.push(`${kind}/${object.metadata.name}`);
      }
    }
    return found.sort();
  };

  return {
    driver: () => new Rke2Driver({ kubeconfig: viaProxy, settings, timeoutMs: 15_000 }),
    faults: {
      async failNextWrite(call, cluster, { retryable }) {
        proxy.arm({ matches: (w) => WRITES[call](cluster, w), mode: retryable ? 'refuse-retryable' : 'refuse-final' });
      },
      async loseNextResponse(call, cluster) {
        proxy.arm({ matches: (w) => WRITES[call](cluster, w), mode: 'lose-response' });
      },
      async failNewNodes(cluster) {
        const response = await fetch(`${simulator.apiUrl}/v1/chaos/machine-faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ kind: 'failed_bootstrap', cluster }),
        });
        if (response.status !== 201) throw new Error(`machine fault refused: ${response.status} ${await response.text()}`);
      },
      async clear() {
        proxy.clear();
        await fetch(`${simulator.apiUrl}/v1/chaos/machine-faults`, { method: 'DELETE' });
      },
    },
    inventory: (cluster) => objects(WRITTEN_KINDS, cluster, (o) => o.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY),
    async leftovers(cluster) {
      const left = await objects([...WRITTEN_KINDS, ...DERIVED_KINDS], cluster);
      if (await simulator.kube.getApiServer(clusterObjectNames(cluster).cluster)) left.push(`api-server/${cluster}`);
      return left;
    },
    versions: catalogueVersions(),
    region: 'nine-cz41',
    machineType: 'standard-4',
    transitionTimeoutMs: 120_000,
    async close() {
      await proxy.close();
      await simulator.close();
      await db.drop();
    },
  };
});
