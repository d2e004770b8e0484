import { type CapstanConfig, createHttpApp, listen } from '@capstan/platform';
import { ApiModule } from './api.module';
import { mountQueueBoard } from './queue-board';

export async function createApi(config: CapstanConfig) {
  return createHttpApp(ApiModule.forRoot(config) as never, config, 'api', { docs: true, mount: mountQueueBoard });
}

export async function startApi(config: CapstanConfig) {
  const app = await createApi(config);
  await listen(app, config.http.host, config.http.apiPort);
  return app;
}
