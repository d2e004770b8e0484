import { Database, DatabaseConfig, DatabasePool, ManualClock, Metrics, newId } from '@capstan/platform';
import { createTestDatabase, seedOrganization, type TestDatabase } from '@capstan/testing';
import { SlaReportsRepository } from '../reports/sla-reports.repository';
import { SlaReportsService } from '../reports/sla-reports.service';
import { SlaBreachGauge } from './sla-breach-gauge';

const NOW = new Date('2026-11-20T12:00:00Z');
const at = (iso: string) => new Date(iso);

/**
 * capstan_sla_breaches against Postgres: the month in progress is breached once counted downtime
 * exceeds the budget (docs/sla.md; RKE2: 216 minutes of November), counted per provider.
 */
describe('the SLA breach gauge', () => {
  let database: TestDatabase;
  let pool: DatabasePool;
  let db: Database;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new DatabasePool(new DatabaseConfig(database.url, 2));
    db = new Database(pool);
  }, 60_000);

  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  async function clusterWith(provider: 'rke2' | 'gke', downMinutes: number): Promise<string> {
    const org = await seedOrganization(db);
    const id = newId('cl');
    await db
      .insertInto('clusters')
      .values({
        id,
        organization_id: org.organizationId,
        name: id.slice(-12),
        live_name: id.slice(-12),
        provider,
        region: provider === 'gke' ? 'europe-west6' : 'nine-cz41',
        current_version: '1.35.2',
        desired_version: '1.35.2',
        status: 'running',
        created_at: at('2026-10-01T00:00:00Z'),
        updated_at: NOW,
      })
      .execute();
    const downStart = at('2026-11-10T00:00:00Z');
    const downEnd = new Date(downStart.getTime() + downMinutes * 60_000);
    const intervals = [
      { state: 'up' as const, started_at: at('2026-11-01T00:00:00Z'), ended_at: downStart },
      ...(downMinutes > 0 ? [{ state: 'down' as const, started_at: downStart, ended_at: downEnd }] : []),
      { state: 'up' as const, started_at: downEnd, ended_at: NOW },
    ];
    await db
      .insertInto('availability_intervals')
      .values(intervals.map((i) => ({ ...i, cluster_id: id, vantage: 'default' })))
      .execute();
    return id;
  }

  it('counts the clusters whose month is already breached, by provider, and not the ones within budget', async () => {
    const breached = await clusterWith('rke2', 300);
    await clusterWith('rke2', 30);
    await clusterWith('gke', 0);
    const metrics = new Metrics();
    const reports = new SlaReportsService(new SlaReportsRepository(db), new ManualClock(NOW));

    expect((await reports.breachedThisMonth(NOW)).map((r) => r.cluster.id)).toEqual([breached]);
    await new SlaBreachGauge(reports, metrics).recompute();
    const values = (await metrics.registry.getSingleMetric('capstan_sla_breaches')!.get()).values;
    expect(Object.fromEntries(values.map((v) => [v.labels.provider, v.value]))).toEqual({ rke2: 1, gke: 0 });
  });
});
