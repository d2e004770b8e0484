export * from './cluster-provider';
export * from './providers.module';
export * from './simulated/simulated-provider';
export * from './infrastructure-driver';
export * from './driver-registry';
export * from './driver-registry.module';
export * from './rke2';
export * from './gke';
