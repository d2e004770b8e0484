export * from './probing/prober';
export * from './probing/availability-recorder';
export * from './probing/probe-scheduler';
export * from './probing/sla-probing.module';
export * from './probing/burn-rate-alerter';
export * from './probing/api-server-health-watch';
export * from './reports';
