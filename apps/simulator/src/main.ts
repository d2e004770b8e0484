import pino from 'pino';
import { loadSimulatorConfig, SimulatorConfigError, type SimulatorConfig } from './config';
import { prepareManagementCluster } from './driver-environment';
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
  const simulator = await startSimulator({ ...config.options, log, readyAtStart: false });
  // Before /readyz can be trusted by whoever waits on it (Compose, the kubelet) the kubeconfig is
  // on disk and the namespace exists: the drivers' processes read the file once, at boot.
  try {
    await prepareManagementCluster(simulator, config.management);
  } catch (error) {
    await simulator.close().catch(() => undefined);
    throw error;
  }
  simulator.markReady();
  process.stdout.write(
    [
      `simulated cloud API ${simulator.apiUrl} (readiness ${simulator.apiUrl}/readyz)`,
      `cluster API servers ${simulator.kubeUrl} (by TLS server name), GKE Container API ${simulator.gkeUrl}`,
      `management cluster kubeconfig ${config.management.kubeconfigPath ?? `${simulator.apiUrl}/v1/management/kubeconfig`}, clusters in namespace ${config.management.namespace}`,
      '',
    ].join('\n'),
  );

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
