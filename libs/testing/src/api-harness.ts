import { createApi } from '@capstan/api';
import type { CapstanConfig } from '@capstan/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestDatabase, type TestDatabase } from './databases';
import { testConfig } from './test-config';

export interface TestApi {
  app: NestFastifyApplication;
  config: CapstanConfig;
  db: TestDatabase;
  close(): Promise<void>;
}

/** The real API module on its own migrated database and Redis prefix, driven with `app.inject`. */
export async function startTestApi(env: Record<string, string> = {}, database?: TestDatabase): Promise<TestApi> {
  const db = database ?? (await createTestDatabase());
  const config = testConfig(db.url, env);
  const app = await createApi(config);
  return {
    app,
    config,
    db,
    async close() {
      await app.close();
      if (!database) await db.drop();
    },
  };
}
