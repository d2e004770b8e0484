import type { SimulatorDatabase, Sql } from '../database';
import { notFound, unavailable } from '../errors';

/** What every part of the simulated cloud shares: its state, its pace and its API-server endpoint. */
export interface CloudContext {
  db: SimulatorDatabase;
  /** How long each transition (provisioning, upgrading, scaling, deleting) takes. */
  stepDelayMs: number;
  /** `https://host:port` of the one listener that serves every cluster's API server. */
  kubeUrl: string;
  /** Each cluster's API server is `<cluster>.<kubeDomain>` by TLS server name on that listener. */
  kubeDomain: string;
  caCertificatePem: string;
}

export type ObjectPhase = 'provisioning' | 'running' | 'updating' | 'upgrading' | 'error' | 'deleting';

export interface ClusterRow {
  name: string;
  flavour: 'rke2' | 'gke';
  region: string;
  version: string;
  target_version: string | null;
  labels: Record<string, string>;
  phase: ObjectPhase;
  api_server_up: boolean;
  created_at: Date;
}

/**
 * Phases in which the control plane exists and serves: an upgrade rolls an HA control plane
 * server by server, so the API stays up, as it does on GKE and on RKE2 with three servers.
 */
const SERVING_PHASES: readonly ObjectPhase[] = ['running', 'upgrading', 'updating'];

/** SQL for "one step from now", with the delay as parameter `$n`. */
export const oneStepLater = (n: number) => `now() + $${n}::integer * interval '1 millisecond'`;

/** The cluster as of now (transitions whose time has come applied), or null when there is none. */
export async function findCluster(sql: Sql, name: string, lock = false): Promise<ClusterRow | null> {
  const { rows } = await sql.query<ClusterRow>('SELECT * FROM simulator.settled_cluster($1, $2)', [name, lock]);
  return rows[0] ?? null;
}

/** The cluster, locked for the rest of the transaction: calls on one cluster take turns. */
export async function lockCluster(sql: Sql, name: string): Promise<ClusterRow> {
  const cluster = await findCluster(sql, name, true);
  if (!cluster) throw notFound(`cluster ${name} does not exist`);
  return cluster;
}

/**
 * SERVING_PHASES for SQL: statements that act on a cluster in one round trip check "the API
 * server serves" on the row they lock, with the same phases.
 */
export const SERVING_PHASE_LIST: string[] = [...SERVING_PHASES];

export function apiServerServes(cluster: Pick<ClusterRow, 'phase' | 'api_server_up'>): boolean {
  return cluster.api_server_up && SERVING_PHASES.includes(cluster.phase);
}

/** Work that goes through the tenant cluster's API server (kubectl, Helm) fails while it is down. */
export function requireApiServer(cluster: Pick<ClusterRow, 'name' | 'phase' | 'api_server_up'>): void {
  if (!apiServerServes(cluster)) {
    const why = cluster.api_server_up ? `the cluster is ${cluster.phase}` : 'it is down';
    throw unavailable(`the API server of cluster ${cluster.name} is not available: ${why}`);
  }
}
