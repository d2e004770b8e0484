export * from './cluster-operation-steps';
export * from './cluster-operation-steps.module';
export * from './upgrade-progress';
export * from './restore-progress';
