export * from './fleet-cluster-source';
export * from './fleet-policy';
export * from './rollouts.repository';
export * from './schedule-fleet-upgrades';
export * from './advance-rollouts';
export * from './advisories';
export * from './fleet.module';
export * from './fleet-scheduler';
