/**
 * The emulated GKE's tables, in the simulator's schema and created at start like the others.
 * Resources are kept as the JSON the API answers with (`resource`), with the keys and the
 * bookkeeping GKE does not show (a pool's node count, an operation's effect) in columns beside it.
 */
export const GKE_SCHEMA = /* sql */ `
CREATE TABLE IF NOT EXISTS simulator.gke_clusters (
  project text NOT NULL,
  location text NOT NULL,
  name text NOT NULL,
  resource jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project, location, name)
);

CREATE TABLE IF NOT EXISTS simulator.gke_node_pools (
  project text NOT NULL,
  location text NOT NULL,
  cluster text NOT NULL,
  name text NOT NULL,
  resource jsonb NOT NULL,
  -- Nodes per zone: what setSize sets and the autoscaler would move; GKE shows it nowhere on the pool.
  node_count integer NOT NULL,
  seq bigserial NOT NULL,
  PRIMARY KEY (project, location, cluster, name),
  FOREIGN KEY (project, location, cluster) REFERENCES simulator.gke_clusters (project, location, name) ON DELETE CASCADE
);

-- Operations outlive their cluster, as GKE's do (a DELETE_CLUSTER stays readable once done).
CREATE TABLE IF NOT EXISTS simulator.gke_operations (
  name text PRIMARY KEY,
  project text NOT NULL,
  location text NOT NULL,
  cluster text NOT NULL,
  node_pool text,
  operation_type text NOT NULL,
  status text NOT NULL,
  status_message text,
  detail text,
  error jsonb,
  target_link text NOT NULL,
  effect jsonb NOT NULL,
  start_time timestamptz NOT NULL DEFAULT now(),
  running_at timestamptz NOT NULL,
  settles_at timestamptz NOT NULL,
  end_time timestamptz
);
CREATE INDEX IF NOT EXISTS gke_operations_open ON simulator.gke_operations (project, location, cluster) WHERE status <> 'DONE';
CREATE INDEX IF NOT EXISTS gke_operations_by_location ON simulator.gke_operations (project, location, start_time);

CREATE TABLE IF NOT EXISTS simulator.gke_tokens (
  token_sha256 text PRIMARY KEY,
  expires_at timestamptz NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now()
);
`;
