import { createTestDatabase, type TestDatabase, WORKSPACE_ROOT } from '@capstan/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseConfig } from '../config/config';
import { DatabasePool } from './database';
import { PrismaService } from './prisma.service';

const versionOf = (name: string) =>
  (JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * `@prisma/client` 6.19 runs on `@prisma/adapter-pg` 7.x (an npm alias; docs/architecture.md,
 * "Prisma and its driver adapter" says why). Prisma is only the schema and migrations tool now,
 * but the client still runs the libraries not yet on Kysely, the readiness check, and every
 * `migrate deploy` (prisma.config.ts). This pins down what the pair must do: round-trip every kind
 * of column we have through the client and the adapter, and roll a failed transaction back. If a
 * version bump breaks the pair, it breaks here first.
 */
describe('Prisma 6.19 client over the pg driver adapter 7.x', () => {
  let db: TestDatabase;
  let prisma: PrismaService;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService(new DatabasePool(new DatabaseConfig(db.url, 2)));
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  it('is the pair this test vouches for', () => {
    expect(versionOf('@prisma/client')).toMatch(/^6\.19\./);
    expect(versionOf('@prisma/adapter-pg')).toMatch(/^7\./);
  });

  it('round-trips text, enums, enum arrays, json, timestamps, bytea and BIGINT', async () => {
    const org = await prisma.organization.create({
      data: { id: 'org_adapter', name: 'adapter-ag', displayName: 'Adapter AG', residency: 'CH', plan: 'standard', maxClusters: 3, maxNodes: 9 },
    });
    expect(org).toMatchObject({ status: 'active', maxNodes: 9 });
    expect(org.createdAt).toBeInstanceOf(Date);
    const token = await prisma.apiToken.create({
      data: { id: 'tok_adapter', organizationId: org.id, name: 't', displayPrefix: 'cap_x', secretHash: 'h', scopes: ['read', 'write'], createdBy: 'test' },
    });
    expect(token.scopes).toEqual(['read', 'write']);
    const sealed = Uint8Array.from([0, 1, 2, 254, 255]);
    const webhook = await prisma.webhook.create({
      data: { id: 'wh_adapter', organizationId: org.id, url: 'https://hooks.example.com/a', eventTypes: ['a.b'], secretKeyId: 'k', secretSealed: sealed },
    });
    expect([...webhook.secretSealed]).toEqual([...sealed]);
    const message = await prisma.outboxMessage.create({ data: { topic: 'operations', dedupeKey: 'op_adapter', payload: { nested: [1, { a: null }] } } });
    expect(typeof message.id).toBe('bigint');
    expect(message.payload).toEqual({ nested: [1, { a: null }] });
  });

  it('rolls an interactive transaction back when its work throws', async () => {
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.organization.create({
          data: { id: 'org_rolled_back', name: 'rolled-back', displayName: 'R', residency: 'CH', plan: 'standard', maxClusters: 1, maxNodes: 1 },
        });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await prisma.organization.findUnique({ where: { id: 'org_rolled_back' } })).toBeNull();
  });
});
