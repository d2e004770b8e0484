import { VERSION_CATALOGUE } from '@capstan/domain';
import { type RunningSimulator, startSimulator } from '@capstan/simulator';
import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { Client } from 'pg';
import { type DriverContractHarness, type DriverWrite, describeDriverContract } from '../contract/driver-contract';
import { GkeDriver } from './gke-driver';
import { DEFAULT_GKE_SETTINGS } from './gke-settings';

const PROJECT = 'capstan-contract';

/** The Container API methods each driver call sends (a fault armed for a call hits its next one). */
const METHODS: Record<DriverWrite, string[]> = {
  ensureCluster: ['gke.clusters.create'],
  deleteCluster: ['gke.clusters.delete'],
  ensureNodePool: ['gke.nodePools.create'],
  updateNodePool: ['gke.nodePools.update', 'gke.nodePools.setAutoscaling', 'gke.nodePools.setSize'],
  deleteNodePool: ['gke.nodePools.delete'],
  upgradeControlPlane: ['gke.clusters.updateMaster'],
  upgradeNodePool: ['gke.nodePools.update'],
};

/** Two consecutive GKE minors of the catalogue, at their latest patches. */
function catalogueVersions(): { initial: string; next: string } {
  const minor = (m: string) => VERSION_CATALOGUE.entries.find((e) => e.provider === 'gke' && e.minor === m)!.latestPatch;
  return { initial: minor('1.35'), next: minor('1.36') };
}

describeDriverContract('gke', async (): Promise<DriverContractHarness> => {
  const db: TestDatabase = await createTestDatabase();
  const sim: RunningSimulator = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, gkePort: 0, stepDelayMs: 100 });
  const sql = new Client({ connectionString: db.url });
  await sql.connect();
  const drivers: GkeDriver[] = [];
  const addFault = async (body: unknown) => {
    const response = await fetch(`${sim.apiUrl}/v1/chaos/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`arming a fault failed: ${response.status} ${await response.text()}`);
  };

  return {
    driver() {
      const driver = new GkeDriver({
        ...DEFAULT_GKE_SETTINGS,
        project: PROJECT,
        apiEndpoint: sim.gkeUrl,
        credentials: { kind: 'token-endpoint', url: `${sim.gkeUrl}/token` },
        serverNameFromDnsEndpoint: true,
        timeoutMs: 10_000,
        changeWaitMs: 60_000,
      });
      drivers.push(driver);
      return driver;
    },
    faults: {
      async failNextWrite(call, cluster, { retryable }) {
        for (const method of METHODS[call]) await addFault({ match: { call: method, cluster }, mode: 'fail_once', at: 'request', retryable });
      },
      async loseNextResponse(call, cluster) {
        for (const method of METHODS[call]) await addFault({ match: { call: method, cluster }, mode: 'fail_once', at: 'response' });
      },
      async failNewNodes(cluster) {
        await addFault({ match: { call: 'gke.nodes.create', cluster }, mode: 'fail_always', retryable: false });
      },
      async clear() {
        await fetch(`${sim.apiUrl}/v1/chaos/faults`, { method: 'DELETE' });
      },
    },
    /** The cluster and its pools as GKE holds them, each listed once per create operation that made it. */
    async inventory(cluster) {
      const { rows } = await sql.query<{ entry: string }>(
        `SELECT 'cluster/' || c.name AS entry FROM simulator.gke_clusters c
           JOIN simulator.gke_operations o ON o.cluster = c.name AND o.operation_type = 'CREATE_CLUSTER' AND o.error IS NULL
          WHERE c.name = $1
         UNION ALL
         SELECT 'nodePool/' || p.name FROM simulator.gke_node_pools p
           JOIN simulator.gke_operations o ON o.cluster = p.cluster AND o.node_pool = p.name AND o.operation_type = 'CREATE_NODE_POOL' AND o.error IS NULL
          WHERE p.cluster = $1
         ORDER BY 1`,
        [cluster],
      );
      return rows.map((r) => r.entry);
    },
    async leftovers(cluster) {
      const { rows } = await sql.query<{ entry: string }>(
        `SELECT 'gke-cluster/' || name AS entry FROM simulator.gke_clusters WHERE name = $1
         UNION ALL SELECT 'gke-node-pool/' || name FROM simulator.gke_node_pools WHERE cluster = $1`,
        [cluster],
      );
      const apiServer = (await sim.kube.getApiServer(cluster)) ? [`api-server/${cluster}`] : [];
      return [...rows.map((r) => r.entry), ...apiServer];
    },
    versions: catalogueVersions(),
    region: 'europe-west6',
    machineType: 'e2-standard-4',
    transitionTimeoutMs: 60_000,
    async close() {
      await Promise.allSettled(drivers.map((d) => d.close()));
      await sql.end();
      await sim.close();
      await db.drop();
    },
  };
});
