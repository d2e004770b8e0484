export * from './engine.module';
export * from './operation-runner';
export * from './outbox-relay';
export * from './reconciler';
export * from './operations-queue';
export * from './step-context';
export * from './step-registry';
export * from './orphan-cleaner';
