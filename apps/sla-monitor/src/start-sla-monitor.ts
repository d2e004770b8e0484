import { type CapstanConfig, type Clock, createHttpApp, listen } from '@capstan/platform';
import { SlaMonitorModule } from './sla-monitor.module';

/** Serves only /healthz, /readyz and /metrics over HTTP; its work is not HTTP-driven. */
export async function startSlaMonitor(config: CapstanConfig, options: { clock?: Clock } = {}) {
  const app = await createHttpApp(SlaMonitorModule.forRoot(config, options) as never, config, 'sla-monitor');
  await listen(app, config.http.host, config.http.slaMonitorPort);
  return app;
}
