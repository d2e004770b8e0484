/**
 * The emulated Kubernetes API servers' tables, in schema `simulator` beside the simulated cloud's
 * (created by SimulatorDatabase.migrate, idempotently). Objects are stored once per group and
 * resource, whichever version wrote them: the emulator serves every served version of a kind from
 * the same row (the kinds it serves have the same shape across their versions, or close enough
 * for an emulator). `resource_version` comes from ONE sequence for every server, as etcd's
 * revision is one counter per cluster; each server's latest revision is kept on its row, whose
 * lock serialises that server's writes so that revisions commit in order (what lets a watch
 * resume from a resourceVersion without missing an event).
 */
export const KUBE_SCHEMA = /* sql */ `
CREATE SEQUENCE IF NOT EXISTS simulator.kube_resource_version;

CREATE TABLE IF NOT EXISTS simulator.api_servers (
  name text PRIMARY KEY,
  role text NOT NULL,
  distribution text NOT NULL,
  version text NOT NULL,
  serving boolean NOT NULL DEFAULT true,
  resource_version bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS simulator.kube_objects (
  server text NOT NULL REFERENCES simulator.api_servers (name) ON DELETE CASCADE,
  api_group text NOT NULL,
  resource text NOT NULL,
  namespace text NOT NULL DEFAULT '',
  name text NOT NULL,
  uid uuid NOT NULL,
  resource_version bigint NOT NULL,
  body jsonb NOT NULL,
  PRIMARY KEY (server, api_group, resource, namespace, name)
);
CREATE INDEX IF NOT EXISTS kube_objects_by_uid ON simulator.kube_objects (server, uid);
CREATE INDEX IF NOT EXISTS kube_objects_by_owner ON simulator.kube_objects USING gin ((body -> 'metadata' -> 'ownerReferences') jsonb_path_ops);
CREATE INDEX IF NOT EXISTS kube_objects_by_namespace ON simulator.kube_objects (server, namespace) WHERE namespace <> '';

CREATE TABLE IF NOT EXISTS simulator.kube_tokens (
  token_sha256 text PRIMARY KEY,
  server text NOT NULL REFERENCES simulator.api_servers (name) ON DELETE CASCADE,
  subject text NOT NULL,
  expires_at timestamptz,
  issued_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS kube_tokens_by_subject ON simulator.kube_tokens (server, subject);

-- etcd snapshot files of RKE2 workload clusters (etcd-snapshots.ts): a copy of the server's
-- objects as of one revision. No foreign key: like a file on disk or in S3 it is not an object
-- of the API server, and a restore or a wipe leaves it where it is.
CREATE TABLE IF NOT EXISTS simulator.kube_etcd_snapshots (
  server text NOT NULL,
  name text NOT NULL,
  node text NOT NULL,
  location text NOT NULL,
  s3 jsonb,
  resource_version bigint NOT NULL,
  objects jsonb NOT NULL,
  size_bytes bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (server, name)
);
`;

/** The NOTIFY channel every write is announced on, for the other simulator processes. */
export const KUBE_CHANNEL = 'capstan_kube';
