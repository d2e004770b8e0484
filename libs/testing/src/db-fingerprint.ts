import type { PrismaService } from '@capstan/platform';

const TABLES = [
  'organizations', 'api_tokens', 'staff_users', 'staff_api_tokens', 'clusters', 'node_pools', 'maintenance_windows',
  'operations', 'operation_steps', 'outbox_messages', 'audit_events', 'idempotency_records',
];

/**
 * A digest of every row of the tables the API writes: equal digests mean nothing was written.
 * `last_used_at` is left out: reading with a token records that it was used, by design.
 */
export async function databaseFingerprint(prisma: PrismaService): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const table of TABLES) {
    const [row] = await prisma.$queryRawUnsafe<{ digest: string | null; n: bigint }[]>(
      `SELECT count(*) AS n, md5(string_agg((to_jsonb(t) - 'last_used_at')::text, '|' ORDER BY (to_jsonb(t) - 'last_used_at')::text)) AS digest FROM ${table} t`,
    );
    result[table] = `${row?.n ?? 0}:${row?.digest ?? ''}`;
  }
  return result;
}
