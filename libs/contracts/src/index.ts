export * from './zod';
export * from './route';
export * from './problem.schema';
export * as systemRoutes from './system.routes';
export * from './common.schema';
export * as tenancyRoutes from './tenancy.routes';
export * as clusterRoutes from './clusters.routes';
export * as catalogueRoutes from './catalogue.routes';
export * as eventRoutes from './events.routes';
