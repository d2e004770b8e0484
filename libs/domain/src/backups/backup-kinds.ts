/**
 * Which backup kinds each provider offers (docs/backups.md, "The model"). RKE2 runs etcd on the
 * customer's servers and snapshots it; GKE runs the control plane itself and gives no access to its
 * etcd, so Backup for GKE backs up workloads only (Google Cloud, "Backup for GKE overview").
 */
import { UnprocessableError } from '../errors/domain-error';
import type { Provider } from '../catalogue/provider';

export type BackupKind = 'etcd_snapshot' | 'workload';

const OFFERED: Readonly<Record<Provider, readonly BackupKind[]>> = Object.freeze({ rke2: ['etcd_snapshot', 'workload'], gke: ['workload'] });

export function backupKindsOffered(provider: Provider): readonly BackupKind[] {
  return OFFERED[provider];
}

/** What a backup or schedule is when the request names no kind: the control plane where it can be had. */
export function defaultBackupKind(provider: Provider): BackupKind {
  return OFFERED[provider][0]!;
}

/** The kind asked for (or the provider's default), refused with 422 when the provider has no such backups. */
export function backupKindFor(provider: Provider, kind: BackupKind | undefined): BackupKind {
  const chosen = kind ?? defaultBackupKind(provider);
  if (!OFFERED[provider].includes(chosen))
    throw new UnprocessableError(
      'backup-kind-unsupported',
      `${provider} clusters have no ${chosen} backups: the provider runs the control plane and gives no access to its etcd; take a workload backup`,
      { rule: 'backup kinds the provider offers', provider, kind: chosen, offered: [...OFFERED[provider]] },
    );
  return chosen;
}
