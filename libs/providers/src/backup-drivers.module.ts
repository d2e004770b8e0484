import { Module } from '@nestjs/common';
import { BackupDrivers, ConfiguredBackupDrivers, type BackupDriverSource } from './backup-driver';

/** Where each provider's backup driver comes from; a source per provider is added with its driver. */
export function backupDriverSources(): Record<'rke2' | 'gke', BackupDriverSource> {
  return {
    rke2: { unavailable: 'backups of RKE2 clusters are not available in this installation yet' },
    gke: { unavailable: 'backups of GKE clusters are not available in this installation yet' },
  };
}

/** Provides BackupDrivers: the backup driver for each cluster, from its `provider`. */
@Module({
  providers: [{ provide: BackupDrivers, useFactory: (): BackupDrivers => new ConfiguredBackupDrivers(backupDriverSources()) }],
  exports: [BackupDrivers],
})
export class BackupDriversModule {}
