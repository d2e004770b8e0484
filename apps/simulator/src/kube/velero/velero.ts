import type { SimulatorDatabase } from '../../database';
import { KubeApiError, type ApiServerClient, type ApiServerInfo, type ApiServerRole, type ControllerContext, type EmulatedController, type KubeObject } from '../types';
import { parseLabelSelector } from '../selectors';
import backupsCrd from '../crds/velero/backups.velero.io.json';
import deleteBackupRequestsCrd from '../crds/velero/deletebackuprequests.velero.io.json';
import restoresCrd from '../crds/velero/restores.velero.io.json';

export const VELERO_API = 'velero.io/v1';
export const VELERO_NAMESPACE = 'velero';
const VELERO_CRDS = [backupsCrd, restoresCrd, deleteBackupRequestsCrd] as unknown as KubeObject[];

/**
 * What Velero leaves out of a backup in the emulator: kinds Velero itself excludes (nodes,
 * events, its own kinds) and what the cluster's controllers rebuild from what is restored (pods,
 * endpoints, leases, anything with an owner). Velero backs the last group up and its restore item
 * actions sort them out; the emulator skips them, which leaves the same cluster after a restore.
 */
const SKIPPED = new Set([
  '/nodes',
  '/events',
  'events.k8s.io/events',
  '/pods',
  '/endpoints',
  'discovery.k8s.io/endpointslices',
  'coordination.k8s.io/leases',
  'k3s.cattle.io/etcdsnapshotfiles',
  'apiextensions.k8s.io/customresourcedefinitions',
]);

interface StoredItem {
  group: string;
  resource: string;
  object: KubeObject;
}

/**
 * Velero's object storage (its BackupStorageLocation) in the emulator: one bucket for every
 * cluster of the simulated cloud, as an installation whose clusters share one location, so a
 * backup of one cluster restores into another (Velero syncs backups from the location).
 */
export class VeleroBackupStore {
  constructor(private readonly db: SimulatorDatabase) {}

  async migrate(): Promise<void> {
    await this.db.transaction(async (sql) => {
      await sql.query(`SELECT pg_advisory_xact_lock(hashtext('capstan-simulator-velero'))`);
      await sql.query(`CREATE SCHEMA IF NOT EXISTS simulator;
CREATE TABLE IF NOT EXISTS simulator.velero_backups (
  name text PRIMARY KEY,
  cluster text NOT NULL,
  items jsonb NOT NULL,
  item_count integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`);
    });
  }

  /** Copies the selected objects of `server` as backup `name` (a repeated call keeps the first copy). */
  async save(server: string, name: string, backup: KubeObject): Promise<number> {
    const spec = (backup.spec ?? {}) as { includedNamespaces?: string[]; excludedNamespaces?: string[]; labelSelector?: LabelSelector };
    const included = (spec.includedNamespaces ?? []).filter((n) => n !== '*');
    const excluded = new Set(spec.excludedNamespaces ?? []);
    const matches = parseLabelSelector(selectorString(spec.labelSelector));
    const rows = await this.db.query<{ api_group: string; resource: string; namespace: string; body: KubeObject }>(
      `SELECT api_group, resource, namespace, body FROM simulator.kube_objects WHERE server = $1 ORDER BY api_group, resource, namespace, name`,
      [server],
    );
    const inScope = (namespace: string) => !excluded.has(namespace) && (included.length === 0 || included.includes(namespace));
    const items: StoredItem[] = [];
    const namespaces = new Set<string>();
    for (const row of rows) {
      if (SKIPPED.has(`${row.api_group}/${row.resource}`) || row.api_group === 'velero.io') continue;
      if ((row.body.metadata.ownerReferences ?? []).length > 0 || row.body.metadata.deletionTimestamp) continue;
      if (row.api_group === '' && row.resource === 'namespaces') continue;
      // Cluster-scoped kinds only in a backup of the whole cluster (Velero's includeClusterResources: auto).
      if (!row.namespace && (included.length > 0 || excluded.size > 0)) continue;
      if (row.namespace && !inScope(row.namespace)) continue;
      if (!matches(row.body)) continue;
      items.push({ group: row.api_group, resource: row.resource, object: row.body });
      if (row.namespace) namespaces.add(row.namespace);
    }
    for (const namespace of included) if (inScope(namespace)) namespaces.add(namespace);
    const namespaceObjects = rows.filter((r) => r.api_group === '' && r.resource === 'namespaces' && namespaces.has(r.body.metadata.name));
    const all = [...namespaceObjects.map((r) => ({ group: '', resource: 'namespaces', object: r.body })), ...items];
    await this.db.query(`INSERT INTO simulator.velero_backups (name, cluster, items, item_count) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING`, [
      name,
      server,
      JSON.stringify(all),
      all.length,
    ]);
    const [row] = await this.db.query<{ item_count: number }>(`SELECT item_count FROM simulator.velero_backups WHERE name = $1`, [name]);
    return row!.item_count;
  }

  async items(name: string): Promise<StoredItem[] | null> {
    const [row] = await this.db.query<{ items: StoredItem[] }>(`SELECT items FROM simulator.velero_backups WHERE name = $1`, [name]);
    return row ? row.items : null;
  }

  async remove(name: string): Promise<void> {
    await this.db.query(`DELETE FROM simulator.velero_backups WHERE name = $1`, [name]);
  }
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

function selectorString(selector: LabelSelector | undefined): string | undefined {
  if (!selector) return undefined;
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.length > 0 ? parts.join(',') : undefined;
}

/**
 * Velero on an emulated workload cluster, installed by the `velero` add-on (a HelmChart whose chart
 * is `velero`: the chart's CRDs appear, as Helm installs them, and the `velero` namespace).
 * Backup (`velero.io/v1`): New -> InProgress -> Completed, copying the selected objects
 * (included/excluded namespaces, label selector) to the shared location, with `progress`,
 * `startTimestamp`, `completionTimestamp` and `expiration` (`ttl`, default 720h). Restore:
 * creates the backup's objects (optionally only `includedNamespaces`) that do not exist yet,
 * namespaces first, labelled `velero.io/backup-name` and `velero.io/restore-name`; an existing
 * object is left as it is with a warning (Velero's `existingResourcePolicy: none`); Completed, or
 * PartiallyFailed with `errors`; Failed when the backup is not in the location.
 * DeleteBackupRequest: the backup leaves the location and its Backup object goes; Processed.
 * Event-driven only: each write's event moves the next phase.
 */
export class VeleroController implements EmulatedController {
  readonly name = 'velero';
  readonly roles: ApiServerRole[] = ['workload'];
  readonly ticks = false;

  constructor(private readonly store: VeleroBackupStore) {}

  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext): Promise<void> {
    const event = context.event;
    if (!event || event.type === 'DELETED') return;
    const object = event.object;
    try {
      if (object.apiVersion === 'helm.cattle.io/v1' && object.kind === 'HelmChart' && object.spec?.chart === 'velero') await this.install(server);
      if (object.apiVersion !== VELERO_API) return;
      const current = await server.get({ apiVersion: VELERO_API, kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace });
      if (!current) return;
      if (current.kind === 'Backup') await this.backup(server, current, context.now());
      else if (current.kind === 'Restore') await this.restore(server, current, context.now());
      else if (current.kind === 'DeleteBackupRequest') await this.deleteBackup(server, current);
    } catch (error) {
      if (error instanceof KubeApiError && (error.code === 409 || error.code === 404)) return;
      throw error;
    }
  }

  private async install(server: ApiServerClient): Promise<void> {
    for (const crd of VELERO_CRDS) {
      if (await server.get({ apiVersion: crd.apiVersion, kind: crd.kind, name: crd.metadata.name })) continue;
      await createIfAbsent(server, structuredClone(crd));
    }
    await createIfAbsent(server, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: VELERO_NAMESPACE } });
  }

  private async backup(server: ApiServerClient, backup: KubeObject, now: Date): Promise<void> {
    const phase = (backup.status?.phase as string | undefined) ?? '';
    if (phase === '' || phase === 'New') {
      await server.mergePatch(refOf(backup), { status: { phase: 'InProgress', startTimestamp: now.toISOString(), version: 1, formatVersion: '1.1.0' } });
      return;
    }
    if (phase !== 'InProgress') return;
    const count = await this.store.save(server.name, backup.metadata.name, backup);
    const ttl = parseDuration(String(backup.spec?.ttl ?? '720h0m0s'));
    await server.mergePatch(refOf(backup), {
      status: {
        phase: 'Completed',
        completionTimestamp: now.toISOString(),
        expiration: new Date(now.getTime() + ttl).toISOString(),
        progress: { totalItems: count, itemsBackedUp: count },
      },
    });
  }

  private async restore(server: ApiServerClient, restore: KubeObject, now: Date): Promise<void> {
    const phase = (restore.status?.phase as string | undefined) ?? '';
    if (phase === '' || phase === 'New') {
      await server.mergePatch(refOf(restore), { status: { phase: 'InProgress', startTimestamp: now.toISOString() } });
      return;
    }
    if (phase !== 'InProgress') return;
    const backupName = String(restore.spec?.backupName ?? '');
    const items = await this.store.items(backupName);
    if (!items) {
      await server.mergePatch(refOf(restore), {
        status: { phase: 'Failed', failureReason: `backup ${backupName} is not in the backup storage location`, completionTimestamp: now.toISOString() },
      });
      return;
    }
    const only = ((restore.spec?.includedNamespaces as string[] | undefined) ?? []).filter((n) => n !== '*');
    const wanted = items.filter((i) => {
      const namespace = i.group === '' && i.resource === 'namespaces' ? i.object.metadata.name : i.object.metadata.namespace;
      return only.length === 0 || (namespace !== undefined && only.includes(namespace));
    });
    let restored = 0;
    let warnings = 0;
    let errors = 0;
    for (const item of wanted) {
      const object = restoredCopy(item.object, backupName, restore.metadata.name);
      try {
        await server.create(object);
        restored++;
      } catch (error) {
        if (error instanceof KubeApiError && error.code === 409) warnings++;
        else if (error instanceof KubeApiError && error.code < 500) errors++;
        else throw error;
      }
    }
    await server.mergePatch(refOf(restore), {
      status: {
        phase: errors > 0 ? 'PartiallyFailed' : 'Completed',
        completionTimestamp: now.toISOString(),
        progress: { totalItems: wanted.length, itemsRestored: restored },
        ...(warnings > 0 ? { warnings } : {}),
        ...(errors > 0 ? { errors } : {}),
      },
    });
  }

  private async deleteBackup(server: ApiServerClient, request: KubeObject): Promise<void> {
    if (request.status?.phase === 'Processed') return;
    const backupName = String(request.spec?.backupName ?? '');
    await this.store.remove(backupName);
    try {
      await server.delete({ apiVersion: VELERO_API, kind: 'Backup', name: backupName, namespace: request.metadata.namespace });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.code === 404)) throw error;
    }
    await server.mergePatch(refOf(request), { status: { phase: 'Processed' } });
  }
}

/** What Velero writes back: the object without its server-set identity, labelled with where it came from. */
function restoredCopy(object: KubeObject, backup: string, restore: string): KubeObject {
  const { uid: _uid, resourceVersion: _rv, creationTimestamp: _created, generation: _generation, managedFields: _managed, ...metadata } = object.metadata;
  return {
    ...object,
    metadata: { ...metadata, labels: { ...metadata.labels, 'velero.io/backup-name': backup, 'velero.io/restore-name': restore } },
  };
}

async function createIfAbsent(server: ApiServerClient, object: KubeObject): Promise<void> {
  try {
    await server.create(object);
  } catch (error) {
    if (!(error instanceof KubeApiError && error.code === 409)) throw error;
  }
}

function refOf(object: KubeObject) {
  return { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace };
}

/** A Go duration as Velero's `ttl` carries it ("720h0m0s", "24h", "90m"). */
export function parseDuration(value: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000 };
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)) total += Number(amount) * units[unit!]!;
  return total || 720 * 3_600_000;
}
