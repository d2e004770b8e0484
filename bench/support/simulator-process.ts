import { startSimulator } from '../../apps/simulator/src/index';

/**
 * Child-process entry point: the simulated cloud (JSON API + the HTTPS listener of every cluster's
 * API server) on 127.0.0.1, so the prober under test in the parent is measured on its own.
 * Reports `{ apiUrl, kubeUrl, caCertificate }` over IPC; closes and exits on `stop`.
 */
async function main(): Promise<void> {
  const [databaseUrl, stepDelayMs] = process.argv.slice(2) as [string, string];
  const sim = await startSimulator({ databaseUrl, host: '127.0.0.1', apiPort: 0, kubePort: 0, stepDelayMs: Number(stepDelayMs), databasePoolSize: 20 });
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stop') void sim.close().finally(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(1));
  process.send!({ type: 'ready', apiUrl: sim.apiUrl, kubeUrl: sim.kubeUrl, caCertificate: sim.caCertificate });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
