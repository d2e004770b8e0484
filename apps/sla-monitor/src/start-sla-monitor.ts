import { type CapstanConfig, createHttpApp, listen } from '@capstan/platform';
import { SlaMonitorModule } from './sla-monitor.module';

/** Serves only /healthz, /readyz and /metrics over HTTP; its work is not HTTP-driven. */
export async function startSlaMonitor(config: CapstanConfig) {
  const app = await createHttpApp(SlaMonitorModule.forRoot(config) as never, config, 'sla-monitor');
  await listen(app, config.http.host, config.http.slaMonitorPort);
  return app;
}
