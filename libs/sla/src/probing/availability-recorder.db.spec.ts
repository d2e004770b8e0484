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

  /**
   * Holds `table` in `mode` on a connection of its own until `release`. `waiter` waits until a flush
   * queues behind the lock; `terminateWaiter` ends that flush's connection, as a database restart would.
   */
  async function holdTable(
    table: string,
    mode: string,
  ): Promise<{ waiter: () => Promise<number>; terminateWaiter: () => Promise<void>; release: () => Promise<void> }> {
    const holder = await db.pgPool.connect();
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${table} IN ${mode} MODE`);
    const waiter = async () => {
      for (;;) {
        // Inside a transaction pg_stat_activity is read once and kept: read it afresh every time.
        await holder.query('SELECT pg_stat_clear_snapshot()');
        const { rows } = await holder.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        if (rows[0]) return rows[0].pid;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    return {
      waiter,
      terminateWaiter: async () => {
        await holder.query('SELECT pg_terminate_backend($1)', [await waiter()]);
      },
      release: async () => {
        await holder.query('ROLLBACK');
        holder.release();
      },
    };
  }

  it('inserts an interval again when the flush that inserted it was rolled back (connection lost mid-flush)', async () => {
    const recorder = new AvailabilityRecorder(db, 'zrh', 40_000, true, 30_000);
    recorder.record(probe(0, true));
    // The flush inserts the interval, then stops at the raw probes' COPY; its connection dies there.
    const lock = await holdTable('probe_results', 'ACCESS EXCLUSIVE');
    const flushing = recorder.flush();
    await lock.terminateWaiter();
    await expect(flushing).rejects.toThrow();
    await lock.release();
    expect(await intervals()).toEqual([]);

    recorder.record(probe(10_000, true));
    await recorder.flush();
    expect((await intervals()).map((i) => [i.state, offsetOf(i.started_at), offsetOf(i.ended_at)])).toEqual([['up', 0, 10_000]]);
  }, 60_000);

  it('writes an interval once when a probe closes it while the flush that inserts it is running', async () => {
    const recorder = new AvailabilityRecorder(db, 'zrh', 40_000, false, 30_000);
    recorder.record(probe(0, true));
    const lock = await holdTable('availability_intervals', 'EXCLUSIVE');
    const flushing = recorder.flush();
    await lock.waiter();
    // The cluster goes down before the flush has the up interval's id.
    expect(recorder.record(probe(10_000, false))).toBe(true);
    await lock.release();
    await flushing;
    await recorder.flush();
    expect((await intervals()).map((i) => [i.state, offsetOf(i.started_at), offsetOf(i.ended_at)])).toEqual([
      ['up', 0, 10_000],
      ['down', 10_000, 10_000],
    ]);
  }, 60_000);

  it('moves ends with HOT updates: no index holds ended_at, and every page keeps room for a new row version', async () => {
    // PostgreSQL writes an update as heap-only (no index entries) only when it changes no indexed
    // column and the row's page has room (docs/sla.md, "How availability is stored").
    const { rows: indexed } = await db.pgPool.query<{ index: string }>(
      `SELECT i.indexrelid::regclass::text AS index FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid
        WHERE i.indrelid = 'availability_intervals'::regclass AND a.attname = 'ended_at'
          AND (a.attnum = ANY (i.indkey) OR pg_get_expr(i.indexprs, i.indrelid) LIKE '%ended_at%' OR pg_get_expr(i.indpred, i.indrelid) LIKE '%ended_at%')`,
    );
    expect(indexed).toEqual([]);
    const { rows: options } = await db.pgPool.query<{ reloptions: string[] | null }>(
      `SELECT reloptions FROM pg_class WHERE oid = 'availability_intervals'::regclass`,
    );
    expect(options[0]!.reloptions).toContain('fillfactor=70');
  });

  it('leaves out a cluster forgotten between recording and flushing', async () => {
    const recorder = new AvailabilityRecorder(db, 'zrh', 40_000, false, 30_000);
    recorder.record(probe(0, true));
    recorder.forget([clusterId]);
    await expect(recorder.flush()).resolves.toEqual({ intervalsOpened: 0, probes: 0 });
    expect(await intervals()).toEqual([]);
  });
});
