export * from './operation-view';
export * from './operations.repository';
export * from './operations.service';
export * from './operations.module';
export * from './engine';
export * from './announced-state';
export * from './operation-events';
<<<<<<< HEAD
export * from './operation-history';
=======
export * from './orphans.service';
>>>>>>> ops
