import { createApi } from '@capstan/api';
import { type CapstanConfig, PrismaService } from '@capstan/platform';
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

export interface StartedTestApi {
  readonly api: TestApi;
  readonly prisma: PrismaService;
}

/**
 * The API started once for the calling describe block (in its beforeAll) and closed after it; read
 * `api` and `prisma` inside hooks and tests only, as they exist once the beforeAll has run.
 */
export function useTestApi(env: Record<string, string> = {}): StartedTestApi {
  let api: TestApi | undefined;
  beforeAll(async () => {
    api = await startTestApi(env);
  });
  afterAll(async () => {
    await api?.close();
  });
  const started = () => {
    if (!api) throw new Error('the test API is read before its beforeAll has started it');
    return api;
  };
  return {
    get api() {
      return started();
    },
    get prisma() {
      return started().app.get(PrismaService);
    },
  };
}
