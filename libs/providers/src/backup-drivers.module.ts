import { GkeConfig } from '@capstan/platform';
import { Module } from '@nestjs/common';
import { BackupDrivers, ConfiguredBackupDrivers, type BackupDriverSource } from './backup-driver';
import { gkeBackupDriverSource } from './gke/backup/gke-backup-source';

/** Where each provider's backup driver comes from; a source per provider is added with its driver. */
export function backupDriverSources(gke: GkeConfig): Record<'rke2' | 'gke', BackupDriverSource> {
  return {
    rke2: { unavailable: 'backups of RKE2 clusters are not available in this installation yet' },
    // Backup for GKE, with the GKE driver's project and credentials (docs/gke-driver.md, "Backups").
    gke: gkeBackupDriverSource(gke),
  };
}

/** Provides BackupDrivers: the backup driver for each cluster, from its `provider`. */
@Module({
  providers: [
    {
      provide: BackupDrivers,
      inject: [GkeConfig],
      useFactory: (gke: GkeConfig): BackupDrivers => new ConfiguredBackupDrivers(backupDriverSources(gke)),
    },
  ],
  exports: [BackupDrivers],
})
export class BackupDriversModule {}
