export * from './cluster-provider';
