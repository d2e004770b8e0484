import pino from 'pino';
import { loadSimulatorConfig, SimulatorConfigError, type SimulatorConfig } from './config';
import { startSimulator } from './simulator';

/** Runs the simulated cloud alone: `node dist/apps/simulator/src/main.js`. */
async function main(): Promise<void> {
  let config: SimulatorConfig;
  try {
    config = loadSimulatorConfig();
  } catch (error) {
    if (error instanceof SimulatorConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = pino({ name: 'simulator', level: config.logLevel });
  const simulator = await startSimulator({ ...config.options, log });
  process.stdout.write(`simulated cloud API ${simulator.apiUrl}, cluster API servers ${simulator.kubeUrl}/clusters/<name>\n`);

  const stop = (signal: string) => {
    log.info({ signal }, 'stopping');
    simulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
