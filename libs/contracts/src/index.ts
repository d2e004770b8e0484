export * from './zod';
export * from './route';
export * from './problem.schema';
export * as systemRoutes from './system.routes';
