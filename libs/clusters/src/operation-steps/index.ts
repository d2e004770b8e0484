export * from './cluster-operation-steps';
export * from './cluster-operation-steps.module';
