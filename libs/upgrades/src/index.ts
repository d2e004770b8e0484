export * from './upgrade-cluster-source';
export * from './upgrades.module';
