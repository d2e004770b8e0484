import { createEmptyDatabase, WORKSPACE_ROOT } from '@capstan/testing';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

const MIGRATIONS = join(WORKSPACE_ROOT, 'prisma', 'migrations');
const RESTATEMENT = '20261204210604_billing_prices_usage_invoices';

/**
 * The migration that moves money from clusters to billing restates the SLA months closed with a
 * fee of 0 once (docs/billing.md, "From fees on clusters to prices"): given a database as the
 * migrations before it left it, with such a month frozen, it keeps the percentage and drops the
 * 0-cent amount, the fee and the columns.
 */
describe('the restatement migration', () => {
  it('keeps the credit percentage of a frozen month and takes out the 0-cent amount and the fee', async () => {
    const db = await createEmptyDatabase();
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const folders = readdirSync(MIGRATIONS)
        .filter((f) => /^\d{14}_/.test(f))
        .sort();
      const before = folders.filter((f) => f < RESTATEMENT);
      expect(folders).toContain(RESTATEMENT);
      for (const folder of before) await client.query(readFileSync(join(MIGRATIONS, folder, 'migration.sql'), 'utf8'));

      // Given October frozen with a 10% credit of a fee nothing ever set
      await client.query(
        `INSERT INTO organizations (id, name, display_name, residency, plan, max_clusters, max_nodes, updated_at) VALUES ('org_1', 'acme', 'Acme', 'CH', 'standard', 5, 20, now())`,
      );
      await client.query(
        `INSERT INTO clusters (id, organization_id, name, provider, region, current_version, desired_version, monthly_fee_cents, updated_at)
         VALUES ('cl_1', 'org_1', 'alpha', 'gke', 'europe-west6', '1.35.2', '1.35.2', 0, now())`,
      );
      const details = { month: '2026-10', currency: 'CHF', monthlyFeeCents: 0, credit: { percent: 10, amountCents: 0, availabilityPercent: 99.8655 } };
      await client.query(
        `INSERT INTO sla_reports (cluster_id, month, organization_id, sla_version, target_percent, availability, downtime_minutes, excluded_minutes, unknown_minutes, breached, credit_percent, credit_amount_cents, details, final, computed_at)
         VALUES ('cl_1', '2026-10', 'org_1', '2026-11', 99.95, 99.8655, 60, 0, 0, true, 10, 0, $1, true, now())`,
        [JSON.stringify(details)],
      );

      // When the migration runs
      await client.query(readFileSync(join(MIGRATIONS, RESTATEMENT, 'migration.sql'), 'utf8'));

      // Then the report keeps its percentage, and no fee or amount is left to read as what was owed
      const report = (await client.query<{ credit_percent: number; details: Record<string, unknown> }>(`SELECT * FROM sla_reports`)).rows[0]!;
      expect(report.credit_percent).toBe(10);
      expect(report.details).toEqual({ month: '2026-10', currency: 'CHF', credit: { percent: 10, availabilityPercent: 99.8655 } });
      expect(report).not.toHaveProperty('credit_amount_cents');
      const columns = (await client.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'clusters'`)).rows;
      expect(columns.map((c) => c.column_name)).not.toContain('monthly_fee_cents');
    } finally {
      await client.end();
      await db.drop();
    }
  }, 60_000);
});
