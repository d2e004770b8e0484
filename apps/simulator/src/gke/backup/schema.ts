/**
 * The emulated Backup for GKE's tables, beside the Container API's (created at start, idempotently).
 * Resources are kept as the JSON the API answers with; what Google keeps elsewhere (a backup's
 * captured Kubernetes objects, an object's timing) sits in columns beside it.
 */
export const GKE_BACKUP_SCHEMA = /* sql */ `
CREATE TABLE IF NOT EXISTS simulator.gke_backup_plans (
  project text NOT NULL,
  location text NOT NULL,
  name text NOT NULL,
  resource jsonb NOT NULL,
  ready_at timestamptz NOT NULL,
  PRIMARY KEY (project, location, name)
);

CREATE TABLE IF NOT EXISTS simulator.gke_backups (
  project text NOT NULL,
  location text NOT NULL,
  plan text NOT NULL,
  name text NOT NULL,
  resource jsonb NOT NULL,
  -- The cluster's objects of the backup's scope, captured when the backup was created.
  contents jsonb NOT NULL,
  -- Why it will fail (the cluster did not answer when it was taken), shown once it settles.
  failure text,
  running_at timestamptz NOT NULL,
  settles_at timestamptz NOT NULL,
  PRIMARY KEY (project, location, plan, name),
  FOREIGN KEY (project, location, plan) REFERENCES simulator.gke_backup_plans (project, location, name)
);

CREATE TABLE IF NOT EXISTS simulator.gke_restore_plans (
  project text NOT NULL,
  location text NOT NULL,
  name text NOT NULL,
  resource jsonb NOT NULL,
  PRIMARY KEY (project, location, name)
);

CREATE TABLE IF NOT EXISTS simulator.gke_restores (
  project text NOT NULL,
  location text NOT NULL,
  plan text NOT NULL,
  name text NOT NULL,
  resource jsonb NOT NULL,
  -- created -> clearing (namespaces being deleted) -> writing -> done: who moves it on claims the step.
  phase text NOT NULL DEFAULT 'created',
  running_at timestamptz NOT NULL,
  settles_at timestamptz NOT NULL,
  PRIMARY KEY (project, location, plan, name),
  FOREIGN KEY (project, location, plan) REFERENCES simulator.gke_restore_plans (project, location, name)
);

-- google.longrunning.Operations of the Backup for GKE API (its own, apart from the Container API's).
CREATE TABLE IF NOT EXISTS simulator.gke_backup_operations (
  name text PRIMARY KEY,
  project text NOT NULL,
  location text NOT NULL,
  target text NOT NULL,
  verb text NOT NULL,
  error jsonb,
  create_time timestamptz NOT NULL DEFAULT now(),
  settles_at timestamptz NOT NULL,
  end_time timestamptz
);
CREATE INDEX IF NOT EXISTS gke_backup_operations_by_location ON simulator.gke_backup_operations (project, location, create_time);
`;
