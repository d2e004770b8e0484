export * from './events.service';
export * from './events.module';
export * from './webhooks/webhooks.service';
export * from './webhooks/webhook-secrets';
export * from './webhooks/webhook-url';
export * from './delivery/retry-schedule';
export * from './delivery/webhook-deliverer';
export * from './delivery/webhooks-worker.module';
