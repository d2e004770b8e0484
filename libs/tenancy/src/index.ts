export * from './tokens/token-secret';
