import { type CapstanConfig, createHttpApp, listen } from '@capstan/platform';
import { WorkerModule } from './worker.module';

/** Serves only /healthz, /readyz and /metrics over HTTP; its work is not HTTP-driven. */
export async function startWorker(config: CapstanConfig) {
  const app = await createHttpApp(WorkerModule.forRoot(config) as never, config, 'worker');
  await listen(app, config.http.host, config.http.workerPort);
  return app;
}
