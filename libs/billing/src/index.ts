export * from './billing-facts';
export * from './billing-months';
export * from './billing.module';
