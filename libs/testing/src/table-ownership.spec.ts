import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { WORKSPACE_ROOT } from './test-env';

/**
 * One owner per table (docs/architecture.md, "Table owners"): a library's source queries only
 * the tables the document gives it, plus the listed exceptions. Queries are found as Kysely calls
 * (`selectFrom`, `insertInto`, `updateTable`, `deleteFrom`, joins; CTE names from `with` are not
 * tables), as raw SQL (FROM / JOIN / INTO / UPDATE followed by a table name) and as Prisma model
 * calls (`prisma.cluster.findMany`).
 */

const ARCHITECTURE = join(WORKSPACE_ROOT, 'docs', 'architecture.md');
/** Libraries that own no tables and must query none. `testing` is exempt (fixtures seed anything). */
const EXEMPT = new Set(['testing']);

function markdownTable(section: string): string[][] {
  const text = readFileSync(ARCHITECTURE, 'utf8');
  const start = text.indexOf(`\n${section}\n`);
  if (start < 0) throw new Error(`docs/architecture.md has no section "${section}"`);
  const rows: string[][] = [];
  for (const line of text.slice(start + section.length + 2).split('\n')) {
    if (line.startsWith('#')) break;
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  }
  return rows.slice(1); // the header
}

/** Prisma model name (camelCase, as on the client) to table, from the schema's @@map. */
function modelTables(): Map<string, string> {
  const schema = readFileSync(join(WORKSPACE_ROOT, 'prisma', 'schema.prisma'), 'utf8');
  const map = new Map<string, string>();
  for (const match of schema.matchAll(/^model (\w+) \{[\s\S]*?@@map\("(\w+)"\)/gm)) {
    map.set(match[1]!.charAt(0).toLowerCase() + match[1]!.slice(1), match[2]!);
  }
  return map;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' || name === 'test' || name === 'node_modules' ? [] : sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every table a source file queries. */
export function tablesQueried(source: string, tables: Set<string>, models: Map<string, string>): Set<string> {
  const found = new Set<string>();
  const ctes = new Set([...source.matchAll(/\.with\(\s*'(\w+)'/g)].map((m) => m[1]!));
  for (const m of source.matchAll(
    /\b(?:selectFrom|insertInto|updateTable|deleteFrom|mergeInto|innerJoin|leftJoin|rightJoin|fullJoin|innerJoinLateral|leftJoinLateral)\(\s*'(\w+)/g,
  )) {
    if (!ctes.has(m[1]!)) found.add(m[1]!);
  }
  for (const m of source.matchAll(/\b(?:FROM|JOIN|INTO|UPDATE)\s+"?(\w+)"?/g)) {
    if (tables.has(m[1]!)) found.add(m[1]!);
  }
  for (const m of source.matchAll(
    /\.(\w+)\.(?:findUnique|findUniqueOrThrow|findFirst|findFirstOrThrow|findMany|create|createMany|update|updateMany|upsert|delete|deleteMany|count|aggregate|groupBy)\(/g,
  )) {
    const table = models.get(m[1]!);
    if (table) found.add(table);
  }
  return found;
}

describe('table ownership', () => {
  const owners = new Map(markdownTable('## Table owners').map(([table, owner]) => [table!, owner!.split(' ')[0]!]));
  const exceptions = markdownTable('### Known exceptions (to remove)').map(([library, table]) => `${library} -> ${table}`);
  const models = modelTables();
  const tables = new Set(models.values());
  const libraries = readdirSync(join(WORKSPACE_ROOT, 'libs')).filter(
    (name) => !EXEMPT.has(name) && statSync(join(WORKSPACE_ROOT, 'libs', name, 'src')).isDirectory(),
  );

  /** `library -> table` for every query of a table the library does not own, with where it is. */
  function foreignQueries(): Map<string, string[]> {
    const foreign = new Map<string, string[]>();
    for (const library of libraries) {
      for (const file of sourceFiles(join(WORKSPACE_ROOT, 'libs', library, 'src'))) {
        for (const table of tablesQueried(readFileSync(file, 'utf8'), tables, models)) {
          if (owners.get(table) === library) continue;
          const key = `${library} -> ${table}`;
          foreign.set(key, [...(foreign.get(key) ?? []), relative(WORKSPACE_ROOT, file)]);
        }
      }
    }
    return foreign;
  }

  it('gives every table of the schema an owner, and names no table the schema lacks', () => {
    expect([...owners.keys()].sort()).toEqual([...tables].sort());
  });

  it('finds queries in all three forms it looks for', () => {
    const kysely = "db.selectFrom('clusters as c').innerJoin('node_pools as p', 'p.cluster_id', 'c.id'); db.with('picked', (q) => q).selectFrom('picked')";
    const raw = 'Prisma.sql`SELECT id FROM organizations o JOIN api_tokens t ON true; INSERT INTO "events" (id) VALUES (1); UPDATE webhooks SET x = 1`';
    const prisma = 'await tx.operationStep.updateMany({}); await this.prisma.outboxMessage.create({})';
    expect([...tablesQueried(kysely, tables, models)].sort()).toEqual(['clusters', 'node_pools']);
    expect([...tablesQueried(raw, tables, models)].sort()).toEqual(['api_tokens', 'events', 'organizations', 'webhooks']);
    expect([...tablesQueried(prisma, tables, models)].sort()).toEqual(['operation_steps', 'outbox_messages']);
  });

  it('lets no library query a table it does not own, beyond the listed exceptions', () => {
    const foreign = foreignQueries();
    const unlisted = [...foreign.entries()].filter(([key]) => !exceptions.includes(key)).map(([key, files]) => `${key} (${files.join(', ')})`);
    expect(unlisted).toEqual([]);
  });

  it('lists no exception that is no longer needed', () => {
    const foreign = foreignQueries();
    expect(exceptions.filter((key) => !foreign.has(key))).toEqual([]);
  });
});
