export * from './backup-operation-steps';
export * from './backup-operation-steps.module';
export * from './backup-scheduler';
