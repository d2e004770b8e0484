export { startSlaMonitor } from './start-sla-monitor';
