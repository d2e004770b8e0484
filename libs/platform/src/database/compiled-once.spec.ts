import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { type Kysely, sql } from 'kysely';
import { DatabaseConfig } from '../config/config';
import { CompiledOnce } from './compiled-once';
import { Database, DatabasePool } from './database';

describe('CompiledOnce', () => {
  let scratch: TestDatabase;
  let pool: DatabasePool;
  let db: Database;

  beforeAll(async () => {
    scratch = await createTestDatabase();
    pool = new DatabasePool(new DatabaseConfig(scratch.url, 2));
    db = new Database(pool);
    for (const [id, name] of [
      ['org_a', 'alpha'],
      ['org_b', 'beta'],
      ['org_c', 'gamma'],
    ])
      await db
        .insertInto('organizations')
        .values({ id, name, display_name: name, residency: 'CH', plan: 'standard', max_clusters: 3, max_nodes: 9, updated_at: new Date() })
        .execute();
  }, 60_000);

  afterAll(async () => {
    await pool.end();
    await scratch.drop();
  });

  const byName = new CompiledOnce((db, p: { name: string }) => db.selectFrom('organizations').select(['id', 'name']).where('name', '=', p.name));

  it('answers each call with its own parameters, as the statement built per call would', async () => {
    for (const name of ['alpha', 'beta', 'gamma', 'nobody']) {
      const expected = await db.selectFrom('organizations').select(['id', 'name']).where('name', '=', name).execute();
      expect(await byName.execute(db, { name })).toEqual(expected);
    }
  });

  it('keeps the constants of the statement and puts parameters where they belong, in any order', async () => {
    const page = new CompiledOnce((db, p: { after: string; rows: number }) =>
      db.selectFrom('organizations').select('id').where('id', '>', p.after).where('residency', '=', 'CH').orderBy('id').limit(p.rows),
    );
    expect(await page.execute(db, { rows: 1, after: 'org_a' })).toEqual([{ id: 'org_b' }]);
    expect(await page.execute(db, { after: 'org_', rows: 2 })).toEqual([{ id: 'org_a' }, { id: 'org_b' }]);
  });

  it('runs inside a transaction, on its connection', async () => {
    await db
      .transaction()
      .execute(async (trx) => {
        await trx.updateTable('organizations').set({ display_name: 'inside' }).where('id', '=', 'org_a').execute();
        const seen = new CompiledOnce((db, p: { id: string }) => db.selectFrom('organizations').select('display_name').where('id', '=', p.id));
        expect(await seen.executeTakeFirst(trx, { id: 'org_a' })).toEqual({ display_name: 'inside' });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect((await byName.executeTakeFirst(db, { name: 'alpha' }))?.id).toBe('org_a');
  });

  it('refuses a statement whose parameter is not a plain value of it', async () => {
    const inText = new CompiledOnce((db, p: { column: string }) => db.selectFrom('organizations').select(sql.ref<string>(p.column).as('x')));
    await expect(inText.execute(db, { column: 'name' })).rejects.toThrow(/reached the SQL text/);
    const transformed = new CompiledOnce((db, p: { name: string }) => db.selectFrom('organizations').select('id').where('name', '=', p.name.toUpperCase()));
    await expect(transformed.execute(db, { name: 'alpha' })).rejects.toThrow(/transformed/);
    const unused = new CompiledOnce((db, _p: { name: string }) => db.selectFrom('organizations').select('id'));
    await expect(unused.execute(db, { name: 'alpha' })).rejects.toThrow(/not in the statement/);
  });

  it('builds per call for a Kysely with plugins, which may rewrite the statement', async () => {
    let seen = 0;
    const counting = db.withPlugin({
      transformQuery: (args) => {
        seen++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    expect(await byName.execute(counting, { name: 'beta' })).toEqual([{ id: 'org_b', name: 'beta' }]);
    expect(seen).toBe(1);
  });

  describe('as named prepared statements on the root pool', () => {
    let single: DatabasePool;
    let one: Database;

    beforeAll(() => {
      // One connection, so the statements it prepared are the ones pg_prepared_statements lists.
      single = new DatabasePool(new DatabaseConfig(scratch.url, 1));
      one = new Database(single);
    });

    afterAll(() => single.end());

    const prepared = async (on: Database) =>
      (await sql<{ name: string }>`SELECT name FROM pg_prepared_statements ORDER BY name`.execute(on)).rows.map((r) => r.name);

    it('prepares each statement once per connection, named by its text, and answers as before', async () => {
      const byResidency = new CompiledOnce((db, p: { residency: string }) =>
        db.selectFrom('organizations').select('id').where('residency', '=', p.residency).orderBy('id'),
      );
      expect(await byResidency.execute(one, { residency: 'CH' })).toEqual([{ id: 'org_a' }, { id: 'org_b' }, { id: 'org_c' }]);
      expect(await byResidency.execute(one, { residency: 'DE' })).toEqual([]);
      const names = await prepared(one);
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(/^capstan_[0-9a-f]{16}_0$/);
      // Another instance of the same text is the same statement, not a second one.
      const again = new CompiledOnce((db, p: { residency: string }) =>
        db.selectFrom('organizations').select('id').where('residency', '=', p.residency).orderBy('id'),
      );
      expect(await again.execute(one, { residency: 'CH' })).toHaveLength(3);
      expect(await prepared(one)).toEqual(names);
    });

    it('prepares nothing when the setting is off (a pooler that cannot carry them)', async () => {
      const plain = new DatabasePool(new DatabaseConfig(scratch.url, 1, false));
      try {
        const db = new Database(plain);
        expect(await byName.execute(db, { name: 'gamma' })).toEqual([{ id: 'org_c', name: 'gamma' }]);
        expect(await prepared(db)).toEqual([]);
      } finally {
        await plain.end();
      }
    });

    it('prepares again when a migration changes the columns under a running statement', async () => {
      await sql`CREATE TABLE widgets (id text PRIMARY KEY)`.execute(db);
      await sql`INSERT INTO widgets VALUES ('w1')`.execute(db);
      const everything = new CompiledOnce((db, p: { id: string }) =>
        (db as unknown as Kysely<{ widgets: { id: string; colour?: string } }>).selectFrom('widgets').selectAll().where('id', '=', p.id),
      );
      expect(await everything.execute(one, { id: 'w1' })).toEqual([{ id: 'w1' }]);
      await sql`ALTER TABLE widgets ADD COLUMN colour text NOT NULL DEFAULT 'red'`.execute(db);
      // PostgreSQL refuses the old plan (0A000); the statement is prepared anew and the call answered.
      expect(await everything.execute(one, { id: 'w1' })).toEqual([{ id: 'w1', colour: 'red' }]);
      expect(await everything.execute(one, { id: 'w1' })).toEqual([{ id: 'w1', colour: 'red' }]);
      expect((await prepared(one)).filter((name) => name.endsWith('_1'))).toHaveLength(1);
    });
  });
});
