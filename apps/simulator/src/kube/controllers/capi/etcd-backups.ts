import type { EtcdSnapshotRecord, EtcdSnapshots, EtcdSnapshotS3 } from '../../etcd-snapshots';
import {
  KubeApiError,
  type ApiServerClient,
  type ApiServerInfo,
  type ApiServerRole,
  type ControllerContext,
  type EmulatedController,
  type KubeObject,
} from '../../types';
import { CLUSTER_API, CONTROL_PLANE_API, LABEL, field, isRecord, stringField } from './api';

/** Rancher Turtles' etcd snapshot and restore kinds (its day-2 operations, CRDs in src/kube/crds). */
export const TURTLES_API = 'turtles-capi.cattle.io/v1alpha1';
export const SNAPSHOT_KIND = 'ETCDMachineSnapshot';
export const RESTORE_KIND = 'ETCDSnapshotRestore';
export const SNAPSHOT_FINALIZER = 'etcdmachinesnapshot.turtles.cattle.io';
export const SNAPSHOT_FILE_API = 'k3s.cattle.io/v1';
export const SNAPSHOT_FILE_KIND = 'ETCDSnapshotFile';

/** RKE2's default `etcd-snapshot-dir` under its data dir. */
const DEFAULT_SNAPSHOT_DIR = '/var/lib/rancher/rke2/server/db/snapshots';

type RestorePhase = 'Pending' | 'Started' | 'Shutdown' | 'Running' | 'Restart' | 'Unpause' | 'Joining' | 'Done' | 'Failed';

/**
 * Turtles' day-2 etcd controllers on the emulated management cluster, doing the work for real
 * through the workload cluster's etcd snapshot store (src/kube/etcd-snapshots.ts).
 *
 * ETCDMachineSnapshot (`spec.clusterName`, `spec.machineName`): Pending -> Running (turtles puts
 * `rke2 etcd-snapshot save --name <object name>` in the machine's plan) -> after one step the
 * snapshot is taken: a file `<name>-<node>-<unix seconds>` in RKE2's snapshot dir, and also in S3
 * when the RKE2ControlPlane's `serverConfig.etcd.backupConfig.s3` says so; RKE2 lists each as an
 * ETCDSnapshotFile on the workload cluster (`local-<file>`, `s3-<file>`), and the object goes
 * Done with `status.snapshotFileName`, `snapshots[]` and `s3Snapshots[]`. A cluster whose API
 * server is down cannot be snapshotted: Failed with `status.error`. Deleting the object deletes
 * its snapshot files (`rke2 etcd-snapshot delete`) before its finalizer goes; turtles itself left
 * them to RKE2's retention, Capstan's backups need deletion to free the space.
 *
 * ETCDSnapshotRestore (`spec.clusterName`, `spec.etcdMachineSnapshotName` = the ETCDMachineSnapshot
 * to restore), one step per phase as turtles' planner runs them: Pending -> Started (the Cluster
 * is paused) -> Shutdown (RKE2 stopped on every server: the API server stops serving) -> Running
 * (`rke2 server --cluster-reset --cluster-reset-restore-path=<file>` on the snapshot's machine: the
 * objects become the snapshot's) -> Restart (RKE2 started: serving again) -> Unpause -> Joining
 * -> Done. A snapshot that is not Done, of another cluster, or whose file is gone: Failed.
 */
export class EtcdBackupController implements EmulatedController {
  readonly name = 'turtles-etcd-backups';
  readonly roles: ApiServerRole[] = ['management'];

  constructor(private readonly snapshots: EtcdSnapshots) {}

  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext): Promise<void> {
    const event = context.event;
    let objects: KubeObject[];
    if (event) {
      if (event.object.apiVersion !== TURTLES_API || event.type === 'DELETED') return;
      const current = await server.get({
        apiVersion: TURTLES_API,
        kind: event.object.kind,
        name: event.object.metadata.name,
        namespace: event.object.metadata.namespace,
      });
      objects = current ? [current] : [];
    } else {
      const [snapshots, restores] = await Promise.all([server.list(TURTLES_API, SNAPSHOT_KIND), server.list(TURTLES_API, RESTORE_KIND)]);
      objects = [...snapshots, ...restores].filter(
        (o) => o.metadata.deletionTimestamp || !['Done', 'Failed'].includes(stringField(o, 'status', 'phase') ?? ''),
      );
    }
    for (const object of objects) {
      try {
        if (object.kind === SNAPSHOT_KIND) await this.reconcileSnapshot(server, object, context);
        else if (object.kind === RESTORE_KIND) await this.reconcileRestore(server, object, context);
      } catch (error) {
        // A concurrent write or a vanished object: the next event or tick picks it up.
        if (error instanceof KubeApiError && (error.code === 409 || error.code === 404)) continue;
        throw error;
      }
    }
  }

  private async reconcileSnapshot(server: ApiServerClient, snapshot: KubeObject, context: ControllerContext): Promise<void> {
    const finalizers = snapshot.metadata.finalizers ?? [];
    const clusterName = stringField(snapshot, 'spec', 'clusterName') ?? '';
    if (snapshot.metadata.deletionTimestamp) {
      if (!finalizers.includes(SNAPSHOT_FINALIZER)) return;
      const files = [...filesOf(snapshot, 'snapshots'), ...filesOf(snapshot, 's3Snapshots')];
      for (const file of new Set(files)) await this.deleteSnapshotFile(context, clusterName, file);
      await server.update({ ...snapshot, metadata: { ...snapshot.metadata, finalizers: finalizers.filter((f) => f !== SNAPSHOT_FINALIZER) } });
      return;
    }
    if (!finalizers.includes(SNAPSHOT_FINALIZER)) {
      await server.update({ ...snapshot, metadata: { ...snapshot.metadata, finalizers: [...finalizers, SNAPSHOT_FINALIZER] } });
      return;
    }
    const phase = stringField(snapshot, 'status', 'phase') ?? '';
    if (phase === 'Done' || phase === 'Failed') return;
    const namespace = snapshot.metadata.namespace;
    const fail = (error: string) => server.mergePatch(refOf(snapshot), { status: { phase: 'Failed', error } }, { subresource: 'status' });

    const cluster = await server.get({ apiVersion: CLUSTER_API, kind: 'Cluster', name: clusterName, namespace });
    if (!cluster) return void (await fail(`cluster ${clusterName} does not exist`));
    const machineName = stringField(snapshot, 'spec', 'machineName');
    const machine = machineName ? await server.get({ apiVersion: CLUSTER_API, kind: 'Machine', name: machineName, namespace }) : null;
    if (!machine || machine.metadata.labels?.[LABEL.clusterName] !== clusterName || machine.metadata.labels?.[LABEL.controlPlane] === undefined)
      return void (await fail(`machine ${machineName ?? '(none)'} is not a control plane machine of cluster ${clusterName}`));
    const node = stringField(machine, 'status', 'nodeRef', 'name');
    if (!node) return; // turtles waits for the machine's node

    if (phase === '') return void (await server.mergePatch(refOf(snapshot), { status: { phase: 'Pending' } }, { subresource: 'status' }));
    if (phase === 'Pending' || phase === 'Planning')
      return void (await server.mergePatch(refOf(snapshot), { status: { phase: 'Running' } }, { subresource: 'status' }));

    // Running: the plan runs `rke2 etcd-snapshot save` on the machine, which takes a step.
    const created = Date.parse(snapshot.metadata.creationTimestamp ?? '') || 0;
    if (context.now().getTime() - created < context.stepDelayMs) return;
    const workload = await context.emulator.getApiServer(clusterName);
    if (!workload?.serving)
      return void (await fail(`etcd on machine ${machine.metadata.name} is not available: the API server of cluster ${clusterName} is down`));

    const backupConfig = field(await this.controlPlaneOf(server, cluster), 'spec', 'serverConfig', 'etcd', 'backupConfig');
    const directory = stringField(backupConfig, 'directory') || DEFAULT_SNAPSHOT_DIR;
    // The file's timestamp is the object's creation second: two simulators racing name the same file.
    const fileName = `${snapshot.metadata.name}-${node}-${Math.floor(created / 1000)}`;
    const record = await this.snapshots.save(
      clusterName,
      { name: fileName, node, location: `file://${directory}/${fileName}`, s3: s3Of(backupConfig, fileName) },
      context.now(),
    );
    await syncSnapshotFiles(context.emulator.server(clusterName), [record]);
    const creationTime = record.createdAt.toISOString();
    await server.mergePatch(
      refOf(snapshot),
      {
        status: {
          phase: 'Done',
          snapshotFileName: snapshotFileObjectName('local', record.name),
          snapshots: [{ name: record.name, machineName: machine.metadata.name, location: record.location, creationTime }],
          s3Snapshots: record.s3 ? [{ name: record.name, location: record.s3.location, creationTime }] : [],
        },
      },
      { subresource: 'status' },
    );
  }

  private async deleteSnapshotFile(context: ControllerContext, cluster: string, file: string): Promise<void> {
    await this.snapshots.remove(cluster, file);
    if (!(await context.emulator.getApiServer(cluster))) return;
    const workload = context.emulator.server(cluster);
    for (const storage of ['local', 's3'] as const) {
      try {
        await workload.delete({ apiVersion: SNAPSHOT_FILE_API, kind: SNAPSHOT_FILE_KIND, name: snapshotFileObjectName(storage, file) });
      } catch (error) {
        if (!(error instanceof KubeApiError && error.code === 404)) throw error;
      }
    }
  }

  private async reconcileRestore(server: ApiServerClient, restore: KubeObject, context: ControllerContext): Promise<void> {
    if (restore.metadata.deletionTimestamp) return;
    const phase = (stringField(restore, 'status', 'phase') || 'Pending') as RestorePhase;
    if (phase === 'Done' || phase === 'Failed') return;
    const namespace = restore.metadata.namespace;
    const clusterName = stringField(restore, 'spec', 'clusterName') ?? '';
    const snapshotName = stringField(restore, 'spec', 'etcdMachineSnapshotName') ?? '';
    const conditions = field(restore, 'status', 'conditions');
    const since = Date.parse((Array.isArray(conditions) ? stringField(conditions[0], 'lastTransitionTime') : undefined) ?? '') || 0;
    const move = (next: RestorePhase, message?: string) =>
      server.mergePatch(
        refOf(restore),
        {
          status: {
            phase: next,
            conditions: [
              {
                type: 'Ready',
                status: next === 'Done' ? 'True' : 'False',
                ...(next === 'Done' ? {} : { severity: next === 'Failed' ? 'Error' : 'Info' }),
                reason: next === 'Done' ? 'RestoreFinished' : `Restore${next}`,
                ...(message ? { message } : {}),
                lastTransitionTime: context.now().toISOString(),
              },
            ],
          },
        },
        { subresource: 'status' },
      );

    const cluster = await server.get({ apiVersion: CLUSTER_API, kind: 'Cluster', name: clusterName, namespace });
    if (!cluster) return void (await move('Failed', `cluster ${clusterName} does not exist`));
    const snapshot = await server.get({ apiVersion: TURTLES_API, kind: SNAPSHOT_KIND, name: snapshotName, namespace });
    const file = filesOf(snapshot, 'snapshots')[0];
    const unusable =
      !snapshot || stringField(snapshot, 'spec', 'clusterName') !== clusterName
        ? `etcd machine snapshot ${snapshotName} of cluster ${clusterName} does not exist`
        : stringField(snapshot, 'status', 'phase') !== 'Done' || !file
          ? `etcd machine snapshot ${snapshotName} is not done`
          : null;
    if (phase === 'Pending' && unusable) return void (await move('Failed', unusable));
    if (phase !== 'Pending' && context.now().getTime() - since < context.stepDelayMs) return;

    switch (phase) {
      case 'Pending':
        await this.setPaused(server, cluster, true);
        return void (await move('Started'));
      case 'Started':
        await context.emulator.updateApiServer(clusterName, { serving: false });
        return void (await move('Shutdown'));
      case 'Shutdown': {
        const restored = file ? await this.snapshots.restore(clusterName, file) : false;
        if (!restored) {
          await context.emulator.updateApiServer(clusterName, { serving: true });
          await this.setPaused(server, cluster, false);
          return void (await move('Failed', `the snapshot file ${file ?? '(none)'} of cluster ${clusterName} is gone`));
        }
        return void (await move('Running'));
      }
      case 'Running':
        // RKE2 on the servers comes back with the restored datastore and lists its snapshot files again.
        await context.emulator.updateApiServer(clusterName, { serving: true });
        await syncSnapshotFiles(context.emulator.server(clusterName), await this.snapshots.list(clusterName));
        return void (await move('Restart'));
      case 'Restart':
        await this.setPaused(server, cluster, false);
        return void (await move('Unpause'));
      case 'Unpause':
        return void (await move('Joining'));
      default:
        return void (await move('Done'));
    }
  }

  private async setPaused(server: ApiServerClient, cluster: KubeObject, paused: boolean): Promise<void> {
    if ((cluster.spec?.paused === true) === paused) return;
    await server.mergePatch(refOf(cluster), { spec: { paused } });
  }

  private async controlPlaneOf(server: ApiServerClient, cluster: KubeObject): Promise<KubeObject | null> {
    const ref = field(cluster, 'spec', 'controlPlaneRef');
    const name = stringField(ref, 'name');
    if (!name) return null;
    return server.get({ apiVersion: CONTROL_PLANE_API, kind: 'RKE2ControlPlane', name, namespace: cluster.metadata.namespace });
  }
}

/** The ETCDSnapshotFile name RKE2 gives a file: its storage and the file name. */
export function snapshotFileObjectName(storage: 'local' | 's3', file: string): string {
  return `${storage}-${file}`.toLowerCase();
}

/**
 * RKE2 lists every snapshot file it holds as an ETCDSnapshotFile (`k3s.cattle.io/v1`): one per
 * storage, with `readyToUse`, `size` and `creationTime`. Creates the missing ones, as RKE2's
 * reconcile of its snapshot dir and S3 folder does.
 */
export async function syncSnapshotFiles(workload: ApiServerClient, records: EtcdSnapshotRecord[]): Promise<void> {
  for (const record of records) {
    const storages: ['local' | 's3', string, EtcdSnapshotS3 | null][] = [['local', record.location, null]];
    if (record.s3) storages.push(['s3', record.s3.location, record.s3]);
    for (const [storage, location, s3] of storages) {
      const name = snapshotFileObjectName(storage, record.name);
      if (await workload.get({ apiVersion: SNAPSHOT_FILE_API, kind: SNAPSHOT_FILE_KIND, name })) continue;
      try {
        await workload.create({
          apiVersion: SNAPSHOT_FILE_API,
          kind: SNAPSHOT_FILE_KIND,
          metadata: { name, labels: { 'etcd.k3s.cattle.io/snapshot-storage-node': storage === 's3' ? 's3' : record.node } },
          spec: {
            snapshotName: record.name,
            nodeName: storage === 's3' ? 's3' : record.node,
            location,
            ...(s3 ? { s3: { endpoint: s3.endpoint, bucket: s3.bucket, ...(s3.region ? { region: s3.region } : {}) } } : {}),
          },
          status: { readyToUse: true, size: String(record.sizeBytes), creationTime: record.createdAt.toISOString() },
        });
      } catch (error) {
        if (!(error instanceof KubeApiError && error.code === 409)) throw error;
      }
    }
  }
}

function s3Of(backupConfig: unknown, fileName: string): EtcdSnapshotS3 | null {
  const s3 = field(backupConfig, 's3');
  const bucket = stringField(s3, 'bucket');
  if (!isRecord(s3) || !bucket) return null;
  const folder = stringField(s3, 'folder') || undefined;
  const region = stringField(s3, 'region') || undefined;
  return {
    endpoint: stringField(s3, 'endpoint') || 's3.amazonaws.com',
    bucket,
    ...(folder ? { folder } : {}),
    ...(region ? { region } : {}),
    location: `s3://${bucket}/${folder ? `${folder}/` : ''}${fileName}`,
  };
}

function filesOf(snapshot: KubeObject | null, list: 'snapshots' | 's3Snapshots'): string[] {
  const items = field(snapshot, 'status', list);
  return Array.isArray(items) ? items.map((i) => stringField(i, 'name')).filter((n): n is string => Boolean(n)) : [];
}

function refOf(object: KubeObject) {
  return { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace };
}
