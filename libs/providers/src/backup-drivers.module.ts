import { GkeConfig, Rke2Config } from '@capstan/platform';
import { Module } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { BackupDrivers, ConfiguredBackupDrivers, type BackupDriverSource } from './backup-driver';
import { rke2SettingsFrom } from './driver-registry.module';
import { gkeBackupDriverSource } from './gke/backup/gke-backup-source';
import { Rke2BackupDriver } from './rke2/backup';

/**
 * RKE2 backups go through the same management cluster as the RKE2 driver (RKE2_* settings): none
 * configured, none available. The kubeconfig is read at boot, as the RKE2 driver's is.
 */
export function rke2BackupDriverSource(config: Rke2Config): BackupDriverSource {
  const path = config.managementKubeconfigPath;
  if (!path)
    return { unavailable: 'backups of RKE2 clusters need a management cluster, and this installation has none configured (RKE2_MANAGEMENT_KUBECONFIG)' };
  let kubeconfig: string;
  try {
    kubeconfig = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`RKE2_MANAGEMENT_KUBECONFIG: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const settings = rke2SettingsFrom(config);
  return { create: () => new Rke2BackupDriver({ kubeconfig, settings, timeoutMs: config.requestTimeoutMs }) };
}

/** Where each provider's backup driver comes from; a source per provider is added with its driver. */
export function backupDriverSources(rke2: Rke2Config, gke: GkeConfig): Record<'rke2' | 'gke', BackupDriverSource> {
  return {
    rke2: rke2BackupDriverSource(rke2),
    // Backup for GKE, with the GKE driver's project and credentials (docs/gke-driver.md, "Backups").
    gke: gkeBackupDriverSource(gke),
  };
}

/** Provides BackupDrivers: the backup driver for each cluster, from its `provider`. */
@Module({
  providers: [
    {
      provide: BackupDrivers,
      inject: [Rke2Config, GkeConfig],
      useFactory: (rke2: Rke2Config, gke: GkeConfig): BackupDrivers => new ConfiguredBackupDrivers(backupDriverSources(rke2, gke)),
    },
  ],
  exports: [BackupDrivers],
})
export class BackupDriversModule {}
