import { setTimeout as sleep } from 'node:timers/promises';
import type { ProviderCall } from './calls';
import type { SimulatorDatabase } from './database';
import { notFound, SimulatorError } from './errors';

/**
 * Faults injected into the simulated cloud's API, stored with the rest of its state so that every
 * simulator on the database honours them and a `fail_once` fires exactly once even under
 * concurrent calls.
 *
 * `at: 'request'` fails before the call does anything; `at: 'response'` lets the call take effect
 * and then loses the answer — the case that proves a retry finds what the first attempt made.
 */
export type FaultMode = 'fail_once' | 'fail_always' | 'slow';
export type FaultPoint = 'request' | 'response';

export interface FaultSpec {
  match: { call: ProviderCall; cluster?: string };
  mode: FaultMode;
  /** For `slow`, how long the call is held; for the failing modes, a pause before failing. */
  delayMs?: number;
  /** Failing faults answer 503 when retryable (the default), 422 when not. */
  retryable?: boolean;
  at?: FaultPoint;
}

export interface Fault {
  id: string;
  match: { call: ProviderCall; cluster: string | null };
  mode: FaultMode;
  at: FaultPoint;
  delayMs: number;
  retryable: boolean;
  /** Times it fired. */
  hits: number;
  /** For `fail_once`, 1 until it fires, then 0; null for the others. */
  remaining: number | null;
  createdAt: string;
}

interface FaultRow {
  id: string;
  call: ProviderCall;
  cluster: string | null;
  mode: FaultMode;
  at: FaultPoint;
  delay_ms: number;
  retryable: boolean;
  remaining: number | null;
  hits: number;
  created_at: Date;
}

export class FaultInjector {
  constructor(private readonly db: SimulatorDatabase) {}

  async add(spec: FaultSpec): Promise<Fault> {
    const [row] = await this.db.query<FaultRow>(
      `INSERT INTO simulator.faults (call, cluster, mode, at, delay_ms, retryable, remaining)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [
        spec.match.call,
        spec.match.cluster ?? null,
        spec.mode,
        spec.at ?? 'request',
        spec.delayMs ?? 0,
        spec.retryable ?? true,
        spec.mode === 'fail_once' ? 1 : null,
      ],
    );
    return toFault(row!);
  }

  async list(): Promise<Fault[]> {
    return (await this.db.query<FaultRow>(`SELECT * FROM simulator.faults ORDER BY id`)).map(toFault);
  }

  async remove(id: string): Promise<void> {
    const deleted = /^\d+$/.test(id) ? await this.db.query(`DELETE FROM simulator.faults WHERE id = $1 RETURNING id`, [id]) : [];
    if (deleted.length === 0) throw notFound(`fault ${id} does not exist`);
  }

  async clear(): Promise<void> {
    await this.db.query(`DELETE FROM simulator.faults`);
  }

  /** Applies the faults matching this call at this point: waits, and throws when one fails it. */
  async intercept(call: ProviderCall, cluster: string, at: FaultPoint): Promise<void> {
    const matching = `call = $1 AND at = $2 AND (cluster IS NULL OR cluster = $3)`;
    const rows = await this.db.query<FaultRow>(`SELECT * FROM simulator.faults WHERE ${matching} AND (remaining IS NULL OR remaining > 0) ORDER BY id`, [
      call,
      at,
      cluster,
    ]);
    if (rows.length === 0) return;

    const slow = rows.filter((r) => r.mode === 'slow');
    if (slow.length > 0) {
      await this.db.query(`UPDATE simulator.faults SET hits = hits + 1 WHERE id = ANY($1::bigint[])`, [slow.map((r) => r.id)]);
      await sleep(Math.max(...slow.map((r) => r.delay_ms)));
    }

    const always = rows.find((r) => r.mode === 'fail_always');
    if (always) {
      await this.db.query(`UPDATE simulator.faults SET hits = hits + 1 WHERE id = $1`, [always.id]);
      return fail(always, call);
    }

    if (rows.some((r) => r.mode === 'fail_once')) {
      // Claimed in one statement: of two concurrent calls, only one gets the fault.
      const [fired] = await this.db.query<FaultRow>(
        `UPDATE simulator.faults SET remaining = remaining - 1, hits = hits + 1
          WHERE id = (SELECT id FROM simulator.faults WHERE ${matching} AND mode = 'fail_once' AND remaining > 0
                       ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING *`,
        [call, at, cluster],
      );
      if (fired) return fail(fired, call);
    }
  }
}

async function fail(fault: FaultRow, call: ProviderCall): Promise<never> {
  if (fault.delay_ms > 0) await sleep(fault.delay_ms);
  const when = fault.at === 'response' ? 'after taking effect' : 'before taking effect';
  throw new SimulatorError(fault.retryable ? 503 : 422, 'injected_fault', `injected fault ${fault.id}: ${call} failed ${when}`);
}

function toFault(row: FaultRow): Fault {
  return {
    id: String(row.id),
    match: { call: row.call, cluster: row.cluster },
    mode: row.mode,
    at: row.at,
    delayMs: row.delay_ms,
    retryable: row.retryable,
    hits: row.hits,
    remaining: row.remaining,
    createdAt: row.created_at.toISOString(),
  };
}
