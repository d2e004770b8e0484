export * from './clusters.module';
export * from './clusters.service';
export * from './cluster-view';
export * from './operation-steps';
