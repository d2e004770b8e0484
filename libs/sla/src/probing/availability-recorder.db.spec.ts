import { Database, DatabaseConfig, DatabasePool, newId } from '@capstan/platform';
import { createTestDatabase, seedOrganization, type TestDatabase } from '@capstan/testing';
import { AvailabilityRecorder } from './availability-recorder';
import type { ProbeResult } from './prober';

const T0 = Date.parse('2026-11-20T12:00:00Z');

describe('AvailabilityRecorder against Postgres', () => {
  let database: TestDatabase;
  let pool: DatabasePool;
  let db: Database;
  let clusterId: string;

  const probe = (offsetMs: number, success: boolean, raw = true): ProbeResult => ({
    clusterId,
    at: new Date(T0 + offsetMs),
    sentAtMs: T0 + offsetMs,
    success,
    statusCode: success ? 200 : 503,
    latencyMs: raw ? 2 : 1,
    errorKind: success ? null : 'http_status',
  });
  const intervals = () =>
    db.selectFrom('availability_intervals').select(['state', 'started_at', 'ended_at']).where('cluster_id', '=', clusterId).orderBy('started_at').execute();
  const offsetOf = (date: Date) => date.getTime() - T0;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new DatabasePool(new DatabaseConfig(database.url, 2));
    db = new Database(pool);
  }, 60_000);

  beforeEach(async () => {
    const org = await seedOrganization(db);
    clusterId = newId('cl');
    await db
      .insertInto('clusters')
      .values({
        id: clusterId,
        organization_id: org.organizationId,
        name: clusterId.slice(-12),
        live_name: clusterId.slice(-12),
        provider: 'rke2',
        region: 'nine-cz41',
        current_version: '1.35.2',
        desired_version: '1.35.2',
        status: 'running',
        updated_at: new Date(),
      })
      .execute();
  });

  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  it('moves a healthy interval end only once it trails by the extension period; the final flush writes it all', async () => {
    const recorder = new AvailabilityRecorder(db, 'zrh', 40_000, false, 30_000);
    recorder.record(probe(0, true));
    await recorder.flush();
    for (const at of [10_000, 20_000]) {
      recorder.record(probe(at, true));
      await recorder.flush();
    }
    // Trailing by 20 s: not written yet.
    expect((await intervals()).map((i) => [i.state, offsetOf(i.started_at), offsetOf(i.ended_at)])).toEqual([['up', 0, 0]]);
    recorder.record(probe(30_000, true));
    await recorder.flush();
    expect((await intervals()).map((i) => offsetOf(i.ended_at))).toEqual([30_000]);
    recorder.record(probe(40_000, true));
    await recorder.flush({ everything: true });
    expect((await intervals()).map((i) => offsetOf(i.ended_at))).toEqual([40_000]);
  });

  it('writes a state change and every extension of a down interval at once', async () => {
    const recorder = new AvailabilityRecorder(db, 'zrh', 40_000, false, 30_000);
    recorder.record(probe(0, true));
    recorder.record(probe(10_000, true));
    await recorder.flush();
    recorder.record(probe(20_000, false));
    await recorder.flush();
    expect((await intervals()).map((i) => [i.state, offsetOf(i.started_at), offsetOf(i.ended_at)])).toEqual([
      ['up', 0, 20_000],
      ['down', 20_000, 20_000],
    ]);
    recorder.record(probe(30_000, false));
    await recorder.flush();
    expect((await intervals()).map((i) => offsetOf(i.ended_at))).toEqual([20_000, 30_000]);
  });

  it('keeps raw probes by COPY in the same flush, text with tabs and backslashes intact', async () => {
    const recorder = new AvailabilityRecorder(db, 'zrh\t\\edge', 40_000, true, 30_000);
    for (let i = 0; i < 3; i++) recorder.record(probe(i * 10_000, i !== 1));
    const written = await recorder.flush();
    expect(written.probes).toBe(3);
    const raw = await db
      .selectFrom('probe_results')
      .select(['vantage', 'success', 'status_code', 'error_kind'])
      .where('cluster_id', '=', clusterId)
      .orderBy('probed_at')
      .execute();
    expect(raw).toEqual([
      { vantage: 'zrh\t\\edge', success: true, status_code: 200, error_kind: null },
      { vantage: 'zrh\t\\edge', success: false, status_code: 503, error_kind: 'http_status' },
      { vantage: 'zrh\t\\edge', success: true, status_code: 200, error_kind: null },
    ]);
  });

  it('leaves out a cluster forgotten between recording and flushing', async () => {
    const recorder = new AvailabilityRecorder(db, 'zrh', 40_000, false, 30_000);
    recorder.record(probe(0, true));
    recorder.forget([clusterId]);
    await expect(recorder.flush()).resolves.toEqual({ intervalsOpened: 0, probes: 0 });
    expect(await intervals()).toEqual([]);
  });
});
