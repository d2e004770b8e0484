export * from './operation-view';
export * from './operations.repository';
export * from './operations.service';
export * from './operations.module';
export * from './engine';
export * from './announced-state';
export * from './operation-events';
export * from './orphans.service';
