import { createTestDatabase, ensureTemplateDatabase, type TestDatabase } from '../../libs/testing/src/databases';

/**
 * Scratch databases for one bench run: the test harness's own (cloned from the migrated template,
 * so a template built by `npm test` is reused and vice versa); `drop()` removes it even with
 * connections open.
 */
export type ScratchDatabase = TestDatabase;

export async function createScratchDatabase(): Promise<ScratchDatabase> {
  await ensureTemplateDatabase();
  return createTestDatabase();
}
