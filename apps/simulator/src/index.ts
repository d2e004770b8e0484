export { startSimulator, type RunningSimulator, type SimulatorOptions } from './simulator';
export { loadSimulatorConfig, SimulatorConfigError, type SimulatorConfig } from './config';
export type { SimulatorLogger } from './logger';
export type { FaultSpec, Fault, FaultMode, FaultPoint } from './faults';
export type { ProviderCall } from './calls';
export { PROVIDER_CALLS } from './calls';
