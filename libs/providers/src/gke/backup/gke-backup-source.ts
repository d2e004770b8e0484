import type { GkeConfig } from '@capstan/platform';
import type { BackupDriverSource } from '../../backup-driver';
import { gkeSettingsFrom } from '../gke-source';
import { GkeBackupDriver } from './gke-backup-driver';

/** Where the GKE backup driver comes from: the GKE driver's settings (GKE_*) and GKE_BACKUP_API_ENDPOINT, or why there is none. */
export function gkeBackupDriverSource(config: GkeConfig): BackupDriverSource {
  const settings = gkeSettingsFrom(config);
  if ('unavailable' in settings) return settings;
  return { create: () => new GkeBackupDriver({ ...settings, backupApiEndpoint: config.backupApiEndpoint }) };
}
