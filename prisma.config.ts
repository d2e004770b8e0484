import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { pgConnectionFromUrl } from './libs/platform/src/database/pg-connection';

/**
 * Prisma 6.19 with the JS schema engine and the pg driver adapter: this needs no engine binary,
 * so `generate`, `migrate deploy`, `migrate status` and `migrate diff` work offline.
 * `migrate dev` does not; new migrations come from `npm run migration:new` (migrate diff).
 */
const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/capstan';

// The schema's datasource reads DATABASE_URL; the adapter below is what actually connects.
process.env.DATABASE_URL ??= DEFAULT_DATABASE_URL;

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  experimental: { adapter: true },
  engine: 'js',
  async adapter() {
    return new PrismaPg(pgConnectionFromUrl(process.env.DATABASE_URL as string));
  },
});
