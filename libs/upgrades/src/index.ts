export * from './upgrade-cluster-source';
export * from './upgrades.module';
export * from './operation-steps';
export * from './fleet';
