import { type AvailabilityState } from '@capstan/domain';
import { copyInto, Database, withCopyTransaction } from '@capstan/platform';
import { sql } from 'kysely';
import type { ProbeResult } from './prober';

/**
 * The recorder's timings for a probe schedule, as the SLA monitor runs it; the ingest bench uses
 * the same, so it measures what the monitor does.
 *
 * - `maxGapMs`: three missed probes in a row (plus a timeout) mean the monitor itself was away, so
 *   the next result opens a new interval and the gap stays unknown (docs/sla.md, "Minute states").
 * - `extendUpEveryMs`: a healthy cluster's interval end is written every third probe, not every
 *   flush (docs/sla.md, "What is probed").
 */
export function recorderTimings(probeIntervalMs: number, probeTimeoutMs: number): { maxGapMs: number; extendUpEveryMs: number } {
  return { maxGapMs: 3 * probeIntervalMs + probeTimeoutMs, extendUpEveryMs: 3 * probeIntervalMs };
}

interface OpenInterval {
  clusterId: string;
  id: bigint | null;
  state: AvailabilityState;
  startedAt: Date;
  /** The last probe that confirmed the state. */
  confirmedAt: Date;
  confirmedAtMs: number;
  /** `confirmedAtMs` as last written, or null before the first write. */
  writtenAtMs: number | null;
}

/**
 * Turns probe results into state-change intervals per cluster and vantage point, written in
 * batches: an unchanged state only moves its interval's end forward (one UPDATE for the whole
 * batch), a change closes it and opens another. A healthy month is one row per vantage point.
 *
 * An interval ends at the last probe that confirmed it. If probes stop (the monitor is down) and
 * resume later than `maxGapMs`, a new interval starts: the gap between them is unknown, never up.
 */
export class AvailabilityRecorder {
  private readonly open = new Map<string, OpenInterval>();
  private pendingProbes: ProbeResult[] = [];
  private dirty = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly vantage: string,
    private readonly maxGapMs: number,
    private readonly keepRawProbes: boolean,
    /**
     * How far an `up` interval's stored end may trail its last probe. Moving every healthy
     * cluster's end on every flush was most of the monitor's writes (a row version per cluster per
     * probe, and no HOT update: `ended_at` is indexed); a state change and a `down` interval are
     * still written at once, so detection and live downtime do not wait. If the monitor dies, at
     * most this much confirmed-up time becomes unknown (docs/sla.md), never down.
     */
    private readonly extendUpEveryMs = 0,
  ) {}

  /** Returns whether the cluster's state changed (the caller may flush at once to cut detection time). */
  record(result: ProbeResult): boolean {
    const state: AvailabilityState = result.success ? 'up' : 'down';
    const current = this.open.get(result.clusterId);
    const fresh = {
      clusterId: result.clusterId,
      id: null,
      state,
      startedAt: result.at,
      confirmedAt: result.at,
      confirmedAtMs: result.sentAtMs,
      writtenAtMs: null,
    };
    // Probes finish out of order under load: a result sent before the one that last spoke for this
    // cluster is stale. Recording it would close an interval before it started (ended_at before
    // started_at), which no report or alert can read.
    if (current !== undefined && result.sentAtMs < current.confirmedAtMs) return false;
    const continuous = current !== undefined && result.sentAtMs - current.confirmedAtMs <= this.maxGapMs;
    let changed = false;
    if (current && continuous && current.state === state) {
      current.confirmedAt = result.at;
      current.confirmedAtMs = result.sentAtMs;
    } else if (current && continuous) {
      changed = true;
      // A change: the old state held until this probe saw otherwise.
      current.confirmedAt = result.at;
      this.closing.push({ ...current });
      this.open.set(result.clusterId, fresh);
    } else {
      this.open.set(result.clusterId, fresh);
    }
    this.dirty.add(result.clusterId);
    if (this.keepRawProbes) this.pendingProbes.push(result);
    return changed;
  }

  private closing: OpenInterval[] = [];

  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Writes everything recorded since the last flush in one transaction of a few statements.
   * Flushes run one after another: an interval's id comes back from its INSERT, and the next
   * flush must know it to extend the interval instead of inserting it twice.
   */
  flush(options: { everything?: boolean } = {}): Promise<{ intervalsOpened: number; probes: number }> {
    const run = this.queue.then(() => this.flushNow(options.everything ?? false));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async flushNow(everything: boolean): Promise<{ intervalsOpened: number; probes: number }> {
    const dirtyIds = [...this.dirty];
    const closing = this.closing;
    const probes = this.pendingProbes;
    this.dirty = new Set();
    this.closing = [];
    this.pendingProbes = [];
    if (dirtyIds.length === 0 && closing.length === 0 && probes.length === 0) return { intervalsOpened: 0, probes: 0 };

    // New intervals, including ones that opened and closed again between two flushes.
    // A cluster forgotten since it was recorded (deleted, moved to another replica) is left out.
    const dirtyOpen = dirtyIds.flatMap((id) => this.open.get(id) ?? []);
    const toInsert = [
      ...dirtyOpen.filter((i) => i.id === null).map((i) => [i.clusterId, i] as const),
      ...closing.filter((i) => i.id === null).map((i) => [i.clusterId, i] as const),
    ];
    const due = (i: OpenInterval) => everything || i.state !== 'up' || i.writtenAtMs === null || i.confirmedAtMs - i.writtenAtMs >= this.extendUpEveryMs;
    const extendable = dirtyOpen.filter((i) => i.id !== null);
    // Up intervals not due yet stay dirty for a later flush.
    const waiting = extendable.filter((i) => !due(i));
    const toExtend = [...extendable.filter(due), ...closing.filter((i) => i.id !== null)];
    if (toInsert.length === 0 && toExtend.length === 0 && probes.length === 0) {
      for (const i of waiting) this.dirty.add(i.clusterId);
      return { intervalsOpened: 0, probes: 0 };
    }
    // What each row's end is written as: probes recorded while this flush runs move it further.
    const written = new Map<OpenInterval, number>([...toExtend, ...toInsert.map(([, i]) => i)].map((i) => [i, i.confirmedAtMs]));
    try {
      // One transaction of at most three round trips whatever the number of clusters: `unnest`
      // turns the batch's arrays into rows, and raw probes (the bulk of the bytes) go by COPY.
      const inserted = await withCopyTransaction(this.db, async (tx) => {
        if (toExtend.length > 0) {
          await tx.run(
            this.db
              .updateTable('availability_intervals as a')
              .from(
                sql<{ id: bigint; ended_at: Date }>`(SELECT unnest(${toExtend.map((i) => i.id!.toString())}::bigint[]) AS id,
                         unnest(${toExtend.map((i) => i.confirmedAt)}::timestamptz[]) AS ended_at)`.as('v'),
              )
              .set((eb) => ({ ended_at: eb.ref('v.ended_at') }))
              .whereRef('a.id', '=', 'v.id')
              .compile(),
          );
        }
        let rows: { id: bigint; cluster_id: string; started_at: Date }[] = [];
        if (toInsert.length > 0) {
          rows = await tx.run(
            this.db
              .insertInto('availability_intervals')
              .columns(['cluster_id', 'vantage', 'state', 'started_at', 'ended_at'])
              .expression(
                sql`SELECT * FROM unnest(${toInsert.map(([id]) => id)}::text[], ${toInsert.map(() => this.vantage)}::text[],
                                 ${toInsert.map(([, i]) => i.state)}::"AvailabilityState"[],
                                 ${toInsert.map(([, i]) => i.startedAt)}::timestamptz[], ${toInsert.map(([, i]) => i.confirmedAt)}::timestamptz[])`,
              )
              .returning(['id', 'cluster_id', 'started_at'])
              .compile(),
          );
        }
        await copyInto(
          tx.client,
          'probe_results',
          ['cluster_id', 'vantage', 'probed_at', 'success', 'status_code', 'latency_ms', 'error_kind'],
          probes.map((p) => [p.clusterId, this.vantage, p.at, p.success, p.statusCode, p.latencyMs, p.errorKind]),
        );
        return rows;
      });
      // Only the still-open intervals need their id remembered, to be extended later; and only once
      // committed: an id from a rolled-back INSERT would send every later extension to no row, and
      // the interval would never be written.
      for (const row of inserted) {
        const started = row.started_at.getTime();
        const isRow = (i: OpenInterval) => i.id === null && i.clusterId === row.cluster_id && i.startedAt.getTime() === started;
        const open = this.open.get(row.cluster_id);
        if (open && isRow(open)) open.id = row.id;
        // Closed by a probe while this flush ran: the next flush moves the row's end to the change
        // instead of inserting the interval a second time.
        for (const closed of this.closing) if (isRow(closed)) closed.id = row.id;
      }
      for (const i of waiting) this.dirty.add(i.clusterId);
      for (const [i, at] of written) i.writtenAtMs = at;
    } catch (error) {
      // Keep what could not be written for the next flush (the database may be restarting).
      for (const id of dirtyIds) this.dirty.add(id);
      this.closing.push(...closing);
      this.pendingProbes.unshift(...probes.slice(-10_000));
      throw error;
    }
    return { intervalsOpened: toInsert.length, probes: probes.length };
  }

  /** Clusters this monitor stopped probing (deleted, or another replica's share now). */
  forget(clusterIds: Iterable<string>): void {
    for (const id of clusterIds) this.open.delete(id);
  }

  trackedClusters(): string[] {
    return [...this.open.keys()];
  }

  /** Clusters whose latest probe from this monitor failed. */
  downClusters(): string[] {
    return [...this.open.values()].filter((i) => i.state === 'down').map((i) => i.clusterId);
  }
}
