/**
 * Whether a backup may be restored where the caller asks (docs/backups.md, "Restore rules").
 * Pure: the backup, the clusters and the organisation's residency in, a refusal or nothing out.
 *
 * 1. Same organisation only: another organisation's backup or target cluster does not exist for
 *    the caller (404), as every other object of theirs.
 * 2. Residency: the backup's region and the target's region must both be in the organisation's
 *    residency country; restoring moves data, and it may not leave the country (422).
 * 3. A control-plane restore is an etcd `cluster-reset` of the cluster the snapshot came from: only
 *    into the backup's own cluster, and only from an etcd snapshot (422).
 * 4. A workload restore needs a workload backup (Velero's model), into the same cluster or another
 *    of the organisation on the same provider (422 otherwise): a Velero backup of an RKE2 cluster
 *    lies in the installation's object store, a Backup for GKE backup is a Google resource that
 *    only Backup for GKE restores, into GKE clusters.
 * 5. Not across Kubernetes minors: objects stored at one minor may be served by APIs another minor
 *    no longer has, and an etcd snapshot restored under another minor's apiserver is unsupported (422).
 * 6. Only a backup that succeeded can be restored (409 while it runs, 422 when it failed or is gone).
 * 7. A workload restore of some namespaces names only namespaces the backup holds (422): the
 *    tools restore a namespace the backup lacks as nothing and report success.
 * 8. A workload restore into an RKE2 cluster needs the `velero` add-on on the target (422,
 *    {@link assertWorkloadBackupTool}): the restore is a Velero `Restore` on the target itself.
 */
import { REGIONS } from '../catalogue/regions';
import { ConflictError, NotFoundError, UnprocessableError } from '../errors/domain-error';
import { parseMinor } from '../catalogue/kubernetes-versions';
import type { Provider } from '../catalogue/provider';
import { assertWorkloadBackupTool } from './backup-kinds';

export type RestoreScopeName = 'control_plane' | 'workloads';

export interface RestorableBackup {
  id: string;
  organizationId: string;
  clusterId: string;
  kind: 'etcd_snapshot' | 'workload';
  status: string;
  /** Why it is no longer restorable, when it says (a snapshot deleted with its cluster). */
  statusReason?: string | null;
  region: string;
  clusterVersion: string;
  /** The provider of the cluster it was taken of. */
  provider: Provider;
  /** Workload backups: the namespaces it holds (empty: all) and those it left out. */
  includedNamespaces: readonly string[];
  excludedNamespaces: readonly string[];
}

export interface RestoreTarget {
  id: string;
  organizationId: string;
  provider: Provider;
  region: string;
  /** The control plane's version now. */
  version: string;
}

function countryOf(region: string): string | null {
  return REGIONS.find((r) => r.id === region)?.country ?? null;
}

function minorOf(version: string): string {
  const { major, minor } = parseMinor(version);
  return `${major}.${minor}`;
}

export function assertRestoreAllowed(input: {
  organizationId: string;
  residency: string;
  backup: RestorableBackup;
  target: RestoreTarget;
  scope: RestoreScopeName;
  /** Workload restores: only these namespaces (empty: everything the backup holds). */
  namespaces?: readonly string[];
  /** The add-ons the target runs (its choices, else its tier's defaults). */
  targetAddons: readonly string[];
}): void {
  const { backup, target, scope } = input;
  if (backup.organizationId !== input.organizationId) throw new NotFoundError('backup', backup.id);
  if (target.organizationId !== input.organizationId) throw new NotFoundError('cluster', target.id);

  if (backup.status === 'pending' || backup.status === 'running')
    throw new ConflictError('backup-not-finished', `backup ${backup.id} is ${backup.status}; it can be restored once it has succeeded`, {
      backup_id: backup.id,
      backup_status: backup.status,
    });
  if (backup.status !== 'succeeded')
    throw new UnprocessableError(
      'backup-not-restorable',
      `backup ${backup.id} is ${backup.status}${backup.statusReason ? ` (${backup.statusReason})` : ''}; only a backup that succeeded can be restored`,
      {
        rule: 'restore only a backup that succeeded',
        backup_id: backup.id,
        backup_status: backup.status,
        ...(backup.statusReason ? { reason: backup.statusReason } : {}),
      },
    );

  const residency = input.residency.trim().toUpperCase();
  const from = countryOf(backup.region);
  const to = countryOf(target.region);
  if (from !== residency || to !== residency || from !== to)
    throw new UnprocessableError(
      'data-residency-violation',
      `restoring backup ${backup.id} (region ${backup.region}, ${from ?? 'unknown country'}) into cluster ${target.id} (region ${target.region}, ${to ?? 'unknown country'}) would move organisation data outside ${residency}`,
      { rule: 'restores stay in the residency country', backup_region: backup.region, target_region: target.region, residency },
    );

  if (scope === 'control_plane') {
    if (backup.kind !== 'etcd_snapshot')
      throw new UnprocessableError(
        'restore-scope-mismatch',
        `backup ${backup.id} holds workloads, not an etcd snapshot; a control-plane restore needs an etcd snapshot`,
        {
          rule: 'control-plane restores come from etcd snapshots',
          kind: backup.kind,
          scope,
        },
      );
    if (target.id !== backup.clusterId)
      throw new UnprocessableError(
        'restore-target-mismatch',
        `a control-plane restore resets cluster ${backup.clusterId}'s own etcd; it cannot be restored into cluster ${target.id}`,
        { rule: "control-plane restores only into the backup's own cluster", backup_cluster_id: backup.clusterId, target_cluster_id: target.id },
      );
  } else if (backup.kind !== 'workload') {
    throw new UnprocessableError('restore-scope-mismatch', `backup ${backup.id} is an etcd snapshot; a workload restore needs a workload backup`, {
      rule: 'workload restores come from workload backups',
      kind: backup.kind,
      scope,
    });
  }
  // Velero and Backup for GKE restore a namespace the backup lacks as nothing, and succeed.
  const missing = (input.namespaces ?? []).filter(
    (ns) => (backup.includedNamespaces.length > 0 && !backup.includedNamespaces.includes(ns)) || backup.excludedNamespaces.includes(ns),
  );
  if (missing.length > 0)
    throw new UnprocessableError(
      'restore-namespace-not-in-backup',
      `backup ${backup.id} does not hold namespace${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; a restore of ${missing.length > 1 ? 'them' : 'it'} would restore nothing`,
      {
        rule: 'restore only namespaces the backup holds',
        namespaces: missing,
        backup_namespaces: [...backup.includedNamespaces],
        backup_excluded_namespaces: [...backup.excludedNamespaces],
      },
    );
  if (backup.provider !== target.provider)
    throw new UnprocessableError(
      'restore-provider-mismatch',
      `backup ${backup.id} was taken of a ${backup.provider} cluster and only restores into ${backup.provider} clusters; cluster ${target.id} is ${target.provider}`,
      { rule: "workload restores stay on the backup's provider", backup_provider: backup.provider, target_provider: target.provider },
    );

  if (minorOf(backup.clusterVersion) !== minorOf(target.version))
    throw new UnprocessableError(
      'restore-version-mismatch',
      `backup ${backup.id} was taken at Kubernetes ${backup.clusterVersion}, cluster ${target.id} runs ${target.version}; a restore onto another minor is refused`,
      { rule: 'no restore across Kubernetes minors', backup_version: backup.clusterVersion, target_version: target.version },
    );

  if (scope === 'workloads') assertWorkloadBackupTool(target, backup.kind, input.targetAddons, 'restore workload backups into');
}
