import { pgConnectionFromUrl } from '@capstan/platform';
import { Pool, type PoolClient, type QueryResultRow } from 'pg';
import { KUBE_SCHEMA } from './kube/schema';

/**
 * The simulated cloud's own state, in schema `simulator` of whatever database it is given.
 *
 * It is deliberately not Prisma and not in prisma/migrations: the simulator stands for someone
 * else's cloud, so Capstan's schema must not know about it, and it must outlive a worker crash
 * like a real cloud does. The tables are created at start, idempotently, under an advisory lock so
 * that two simulators starting on one database do not race on the catalogue.
 */
export type Sql = Pick<PoolClient, 'query'>;

export class SimulatorDatabase {
  readonly pool: Pool;

  constructor(databaseUrl: string, poolSize = 10, applicationName = 'capstan-simulator') {
    this.pool = new Pool({ ...pgConnectionFromUrl(databaseUrl), max: poolSize, application_name: applicationName });
    // An idle client losing its connection (a Postgres restart) must not crash the simulator.
    this.pool.on('error', () => undefined);
  }

  async query<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(text, values)).rows;
  }

  async transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client reports a lost connection (a Postgres restart) on itself, not on the
    // pool; between two statements nobody else hears it and it would crash the process.
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken ??= rollbackError;
      });
      throw error;
    } finally {
      client.off('error', onError);
      // A client whose connection failed is not reused: the pool opens a fresh one.
      client.release(broken);
    }
  }

  async migrate(): Promise<void> {
    await this.transaction(async (sql) => {
      await sql.query(`SELECT pg_advisory_xact_lock(hashtext('capstan-simulator-schema'))`);
      await sql.query(SCHEMA);
      await sql.query(KUBE_SCHEMA);
    });
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Every simulated object carries `phase` and `settles_at`: the phase it is in and when it leaves it. */
const SCHEMA = /* sql */ `
CREATE SCHEMA IF NOT EXISTS simulator;

CREATE TABLE IF NOT EXISTS simulator.certificate_authority (
  id smallint PRIMARY KEY CHECK (id = 1),
  certificate_pem text NOT NULL,
  private_key_pem text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS simulator.clusters (
  name text PRIMARY KEY,
  flavour text NOT NULL,
  region text NOT NULL,
  version text NOT NULL,
  target_version text,
  labels jsonb NOT NULL DEFAULT '{}',
  phase text NOT NULL,
  settles_at timestamptz NOT NULL,
  api_server_up boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS simulator.node_pools (
  cluster text NOT NULL REFERENCES simulator.clusters (name) ON DELETE CASCADE,
  name text NOT NULL,
  machine_type text NOT NULL,
  count integer NOT NULL,
  autoscaling jsonb,
  version text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}',
  taints jsonb NOT NULL DEFAULT '[]',
  max_surge integer NOT NULL,
  max_unavailable integer NOT NULL,
  phase text NOT NULL,
  settles_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cluster, name)
);

CREATE TABLE IF NOT EXISTS simulator.nodes (
  cluster text NOT NULL,
  pool text NOT NULL,
  name text NOT NULL,
  seq bigserial NOT NULL,
  version text NOT NULL,
  target_version text,
  unschedulable boolean NOT NULL DEFAULT false,
  phase text NOT NULL,
  settles_at timestamptz NOT NULL,
  PRIMARY KEY (cluster, name),
  FOREIGN KEY (cluster, pool) REFERENCES simulator.node_pools (cluster, name) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS nodes_by_pool ON simulator.nodes (cluster, pool, seq);

CREATE TABLE IF NOT EXISTS simulator.credentials (
  token_sha256 text PRIMARY KEY,
  cluster text NOT NULL REFERENCES simulator.clusters (name) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  issued_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS credentials_by_cluster ON simulator.credentials (cluster) WHERE revoked_at IS NULL;

CREATE TABLE IF NOT EXISTS simulator.addons (
  cluster text NOT NULL REFERENCES simulator.clusters (name) ON DELETE CASCADE,
  name text NOT NULL,
  version text NOT NULL,
  installed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cluster, name)
);

-- Objects in the tenant cluster, for removed-API preflights; namespace '' is cluster-scoped.
CREATE TABLE IF NOT EXISTS simulator.objects (
  cluster text NOT NULL REFERENCES simulator.clusters (name) ON DELETE CASCADE,
  api_version text NOT NULL,
  kind text NOT NULL,
  namespace text NOT NULL DEFAULT '',
  name text NOT NULL,
  PRIMARY KEY (cluster, api_version, kind, namespace, name)
);

-- Pods protected by a PodDisruptionBudget that allows no disruption: they block a drain.
CREATE TABLE IF NOT EXISTS simulator.disruption_budget_pods (
  cluster text NOT NULL REFERENCES simulator.clusters (name) ON DELETE CASCADE,
  namespace text NOT NULL,
  budget text NOT NULL,
  pod text NOT NULL,
  node text NOT NULL,
  PRIMARY KEY (cluster, namespace, pod)
);
CREATE INDEX IF NOT EXISTS disruption_budget_pods_by_node ON simulator.disruption_budget_pods (cluster, node);

-- No foreign key: snapshots live in object storage and outlive their cluster, as backups must.
CREATE TABLE IF NOT EXISTS simulator.snapshots (
  cluster text NOT NULL,
  name text NOT NULL,
  version text NOT NULL,
  size_bytes bigint NOT NULL,
  addons jsonb NOT NULL,
  objects jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cluster, name)
);

CREATE TABLE IF NOT EXISTS simulator.faults (
  id bigserial PRIMARY KEY,
  call text NOT NULL,
  cluster text,
  mode text NOT NULL,
  at text NOT NULL,
  delay_ms integer NOT NULL,
  retryable boolean NOT NULL,
  remaining integer,
  hits integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- How often each external object was created: the evidence that retries never create twice.
CREATE TABLE IF NOT EXISTS simulator.object_stats (
  kind text NOT NULL,
  cluster text NOT NULL,
  name text NOT NULL,
  creates integer NOT NULL DEFAULT 0,
  deletes integer NOT NULL DEFAULT 0,
  losses integer NOT NULL DEFAULT 0,
  last_created_at timestamptz,
  PRIMARY KEY (kind, cluster, name)
);

CREATE TABLE IF NOT EXISTS simulator.call_stats (
  call text NOT NULL,
  cluster text NOT NULL,
  count bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (call, cluster)
);

-- Time passes lazily: whoever touches a cluster first moves its objects past the transitions
-- whose time has come (provisioning -> running, upgrading -> the new version, deleting -> gone).
CREATE OR REPLACE FUNCTION simulator.settle(p_cluster text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM simulator.clusters WHERE name = p_cluster AND phase = 'deleting' AND settles_at <= now();
  UPDATE simulator.clusters SET phase = 'running', version = coalesce(target_version, version), target_version = NULL
   WHERE name = p_cluster AND phase IN ('provisioning', 'upgrading', 'updating') AND settles_at <= now();
  DELETE FROM simulator.node_pools WHERE cluster = p_cluster AND phase = 'deleting' AND settles_at <= now();
  UPDATE simulator.node_pools SET phase = 'running'
   WHERE cluster = p_cluster AND phase IN ('provisioning', 'updating') AND settles_at <= now();
  DELETE FROM simulator.nodes WHERE cluster = p_cluster AND phase = 'deleting' AND settles_at <= now();
  UPDATE simulator.nodes SET phase = 'running', version = coalesce(target_version, version), target_version = NULL
   WHERE cluster = p_cluster AND phase IN ('provisioning', 'upgrading') AND settles_at <= now();
END
$$;

-- The cluster as of now, settled, and locked for the caller's transaction when asked: one round trip.
CREATE OR REPLACE FUNCTION simulator.settled_cluster(p_name text, p_lock boolean DEFAULT false)
RETURNS SETOF simulator.clusters LANGUAGE plpgsql AS $$
BEGIN
  PERFORM simulator.settle(p_name);
  IF p_lock THEN
    RETURN QUERY SELECT * FROM simulator.clusters c WHERE c.name = p_name FOR UPDATE;
  ELSE
    RETURN QUERY SELECT * FROM simulator.clusters c WHERE c.name = p_name;
  END IF;
END
$$;

-- A node pool with its nodes in creation order, settled first when asked.
CREATE OR REPLACE FUNCTION simulator.node_pool_view(p_cluster text, p_pool text, p_settle boolean)
RETURNS TABLE (pool simulator.node_pools, nodes json) LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  IF p_settle THEN
    PERFORM simulator.settle(p_cluster);
  END IF;
  RETURN QUERY
    SELECT p, coalesce((SELECT json_agg(n ORDER BY n.seq) FROM simulator.nodes n WHERE n.cluster = p.cluster AND n.pool = p.name), '[]'::json)
      FROM simulator.node_pools p WHERE p.cluster = p_cluster AND p.name = p_pool;
END
$$;

-- How every port call starts, in one round trip and its own transaction (a call that fails later
-- is still counted): count it; tell whether faults are armed for it at either point; and, unless
-- one may fail it before it acts, settle its cluster and return it. Reading the faults table on
-- every call, rather than a cached view of it, is what lets a fault added through one simulator
-- fail the very next call on another.
CREATE OR REPLACE FUNCTION simulator.begin_call(p_call text, p_cluster text,
  OUT request_faults boolean, OUT response_faults boolean, OUT cluster simulator.clusters)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  INSERT INTO simulator.call_stats AS s (call, cluster, count) VALUES (p_call, p_cluster, 1)
    ON CONFLICT (call, cluster) DO UPDATE SET count = s.count + 1;
  SELECT coalesce(bool_or(f.at = 'request'), false), coalesce(bool_or(f.at = 'response'), false)
    INTO request_faults, response_faults
    FROM simulator.faults f
   WHERE f.call = p_call AND (f.cluster IS NULL OR f.cluster = p_cluster) AND (f.remaining IS NULL OR f.remaining > 0);
  IF NOT request_faults THEN
    PERFORM simulator.settle(p_cluster);
    SELECT * INTO cluster FROM simulator.clusters c WHERE c.name = p_cluster;
  END IF;
END
$$;

-- begin_call for the calls on a node pool, also returning the pool (as node_pool_view's row, in
-- JSON) when the call goes ahead and the cluster exists: a poll of a pool is one round trip.
CREATE OR REPLACE FUNCTION simulator.begin_pool_call(p_call text, p_cluster text, p_pool text,
  OUT request_faults boolean, OUT response_faults boolean, OUT cluster simulator.clusters, OUT pool json)
LANGUAGE plpgsql AS $$
DECLARE
  started record;
BEGIN
  SELECT * INTO started FROM simulator.begin_call(p_call, p_cluster);
  request_faults := started.request_faults;
  response_faults := started.response_faults;
  cluster := started.cluster;
  IF NOT request_faults AND (cluster).name IS NOT NULL THEN
    SELECT to_json(v) INTO pool FROM simulator.node_pool_view(p_cluster, p_pool, false) v;
  END IF;
END
$$;
`;
