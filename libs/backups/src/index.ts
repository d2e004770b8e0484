export * from './backup-cluster-source';
export * from './backups.module';
export * from './backup-health';
export * from './operation-steps';
export * from './backup-storage';
