export * from './upgrade-versions';
export * from './upgrade-operation-steps';
export * from './upgrade-operation-steps.module';
