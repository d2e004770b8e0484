export * from './test-env';
export * from './databases';
export * from './test-config';
export * from './api-harness';
export * from './ports';
export * from './postgres-process';
export * from './fixtures';
