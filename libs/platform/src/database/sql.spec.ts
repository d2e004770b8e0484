import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { DatabaseConfig } from '../config/config';
import { Prisma } from './generated/client';
import { DatabasePool } from './database';
import { PrismaService } from './prisma.service';
import { Sql } from './sql';

describe('Sql.transaction', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let sql: Sql;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService(new DatabasePool(new DatabaseConfig(db.url, 2)));
    sql = new Sql(prisma);
    await sql.execute(Prisma.sql`CREATE TABLE sql_tx_probe (n int PRIMARY KEY)`);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  const count = async () => Number((await sql.rows<{ n: string }>(Prisma.sql`SELECT count(*) AS n FROM sql_tx_probe`))[0]!.n);

  it('commits what the work wrote, taking tagged templates and built statements alike', async () => {
    const result = await sql.transaction(async (tx) => {
      await tx.$executeRaw`INSERT INTO sql_tx_probe (n) VALUES (${1})`;
      await tx.$executeRaw(Prisma.sql`INSERT INTO sql_tx_probe (n) VALUES (${2})`);
      return tx.$queryRaw<{ n: number }[]>`SELECT n FROM sql_tx_probe ORDER BY n`;
    });
    expect(result).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await count()).toBe(2);
  });

  it('rolls everything back when the work throws, and gives the connection back', async () => {
    await expect(
      sql.transaction(async (tx) => {
        await tx.$executeRaw`INSERT INTO sql_tx_probe (n) VALUES (${3})`;
        throw new Error('quota exceeded');
      }),
    ).rejects.toThrow('quota exceeded');
    // A statement that fails aborts the transaction as well.
    await expect(sql.transaction((tx) => tx.$executeRaw`INSERT INTO sql_tx_probe (n) VALUES (${1})`)).rejects.toThrow(/duplicate key/);
    expect(await count()).toBe(2);
    // Pool of two: both transactions released their connection, or these would wait forever.
    await Promise.all([sql.transaction((tx) => tx.$queryRaw`SELECT 1`), sql.transaction((tx) => tx.$queryRaw`SELECT 1`)]);
  });
});
