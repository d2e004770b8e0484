export * from './sla-reports.repository';
export * from './sla-reports.service';
export * from './sla-report-view';
export * from './sla-reports.module';
export * from './cluster-downtime';
