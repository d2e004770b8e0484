import { type CapstanConfig, createHttpApp, listen } from '@capstan/platform';
import { setFlagsFromString } from 'node:v8';
import { ApiModule } from './api.module';
import { mountQueueBoard } from './queue-board';

/**
 * V8 without allocation-site pretenuring (docs/architecture.md, "Request objects and the garbage
 * collector"). Passport builds each authentication from objects whose allocation sites V8 soon
 * decides to allocate straight into the old generation; those objects point at the request's own
 * closures, so every authenticated request's objects (request, reply, rows, answer) survived the
 * young-generation collections and were promoted, to be found dead only by full collections: a
 * measurable share of a read's CPU, and a heap that grew by megabytes a second under load. Set
 * before the app serves anything; the process only answers requests, whose objects die young.
 */
export function useRequestFriendlyGarbageCollection(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}

export async function createApi(config: CapstanConfig) {
  useRequestFriendlyGarbageCollection();
  return createHttpApp(ApiModule.forRoot(config) as never, config, 'api', { docs: true, mount: mountQueueBoard });
}

export async function startApi(config: CapstanConfig) {
  const app = await createApi(config);
  await listen(app, config.http.host, config.http.apiPort);
  return app;
}
