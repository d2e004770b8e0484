export { createCapstanClient, type CapstanClient, type CapstanClientOptions, type Problem } from './client';
export type { components, operations, paths } from './generated/schema';
