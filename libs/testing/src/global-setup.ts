import { ensureTemplateDatabase } from './databases';

/** Runs once per jest run: migrate the template every test database is cloned from. */
export default async function globalSetup(): Promise<void> {
  await ensureTemplateDatabase();
}
