import { ACTIVE_OPERATION_STATUSES, type ClusterStatus, operationTransition, stepStatusesBefore } from '@capstan/domain';
import type { NewEvent } from '@capstan/events';
import { CompiledOnce, type Database, type DB, newId, type Prisma } from '@capstan/platform';
import { type Compilable, type Expression, expressionBuilder, type Kysely, type QueryCreator, sql, type SqlBool } from 'kysely';
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres';
import { eventValues, type EventValues, newDeliveryIds, type PlainEventValues, withEventValues } from '@capstan/events';
import type { ClusterStatusAtEnd } from '../cluster-status-after';
import { operationEventColumns } from '../operation-events';
import type { EngineCluster, EngineOperation, EngineStep, PendingStepWrites, StepWait, StepWrites, StepWritesAdded } from './step-context';

/**
 * The statements of one operation run, one per state change: claim, step boundaries, yields and
 * retries, end. Each is a single statement (CTEs), atomic without a transaction of its own, one
 * round trip on any connection of the process's pool: nothing depends on session state, so they
 * work through PgBouncer in transaction mode (docs/operations-engine.md, Leases).
 *
 * Every one after the claim is guarded by the run's lease (`operation_leases.owner` = this run):
 * a run that lost its lease (it stalled past the expiry and another worker took over) changes
 * nothing and is told so. Status changes are guarded by the expected current status.
 * `updated_at` is set by hand: the reconciler reads it to tell live operations from stuck ones.
 *
 * The statements every run makes (claim, step boundary, end) are CompiledOnce: built and compiled
 * once per process, each call only giving its parameters (docs/architecture.md, "Data access").
 * Their shape therefore never depends on a value: what varies is a parameter (a CASE, a boolean
 * guard). A boundary or end that carries a step's own writes is compiled once per declaration of
 * those writes (`StepWrites`, declared at module scope), their values named apart (`step:`).
 */

/** Statuses an operation can be run in. */
const RUNNABLE = ['pending', 'running'] as const;
const ACTIVE = [...ACTIVE_OPERATION_STATUSES];

export interface Run {
  operationId: string;
  /** The lease key: the cluster (one mutating operation per cluster), or the operation itself. */
  key: string;
  /** This run's owner token (unique per run, not per process). */
  owner: string;
  leaseMs: number;
}

const leaseUntil = (now: Date, ms: number) => new Date(now.getTime() + ms);

/** An event's values as named statement parameters (CompiledOnce takes a flat record). */
type EventParameters = {
  eventId: string;
  eventOrganizationId: string | null;
  eventHookOrganizationId: string;
  eventType: string;
  eventSource: string;
  eventSubject: string | null;
  eventData: string;
  eventTime: Date;
  eventDeliveryIds: string[];
};

const eventParameters = (e: PlainEventValues): EventParameters => ({
  eventId: e.id,
  eventOrganizationId: e.organizationId,
  eventHookOrganizationId: e.hookOrganizationId,
  eventType: e.type,
  eventSource: e.source,
  eventSubject: e.subject,
  eventData: e.data,
  eventTime: e.time,
  eventDeliveryIds: e.deliveryIds,
});

const eventOf = (p: EventParameters): EventValues => ({
  id: p.eventId,
  organizationId: p.eventOrganizationId,
  hookOrganizationId: p.eventHookOrganizationId,
  type: p.eventType,
  source: p.eventSource,
  subject: p.eventSubject,
  data: p.eventData,
  time: p.eventTime,
  deliveryIds: p.eventDeliveryIds,
});

/** A step's writes with their values bound (or placeholders, while a statement is compiled). */
type BoundWrites = (db: QueryCreator<DB>, guard: Expression<SqlBool>) => StepWritesAdded;

/**
 * A step's own writes added to a statement of the engine (`StepContext.writeWithCheckpoint`),
 * guarded by `guard` (the run's lease): they commit with the step's checkpoint or not at all.
 */
function withStepWrites<T>(creator: T, writes: BoundWrites | undefined, guard: string): T {
  if (!writes) return creator;
  return writes(creator as unknown as QueryCreator<DB>, sql<boolean>`EXISTS (SELECT 1 FROM ${sql.table(guard)})`) as unknown as T;
}

const STEP_PARAMETER = 'step:';

/** The step's values as statement parameters, named apart from the engine's own. */
const stepParameters = (writes: PendingStepWrites | undefined): Record<string, unknown> =>
  writes ? Object.fromEntries(Object.entries(writes.parameters).map(([name, value]) => [STEP_PARAMETER + name, value])) : {};

const ofStep = (parameters: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(parameters)
      .filter(([name]) => name.startsWith(STEP_PARAMETER))
      .map(([name, value]) => [name.slice(STEP_PARAMETER.length), value]),
  );

type Declared = StepWrites<Record<string, unknown>>;

/** The engine's statement with a step's writes added, compiled once per declaration of them. */
function compiledWithWrites<P extends Record<string, unknown>, R>(
  cache: WeakMap<Declared, CompiledOnce<P, R>>,
  declared: Declared,
  build: (db: Kysely<DB>, p: P, writes: BoundWrites) => Compilable<R>,
): CompiledOnce<P, R> {
  let statement = cache.get(declared);
  if (!statement) {
    statement = new CompiledOnce((db, p: P) => build(db, p, (creator, guard) => declared(creator, guard, ofStep(p))));
    cache.set(declared, statement);
  }
  return statement;
}

export type Claim =
  /** Gone, finished, or paused for a person: a duplicate or late delivery has nothing to do. */
  | { state: 'idle' }
  /** A pending operation created with a not-before time (`wake_at`) that has not come yet. */
  | { state: 'not_before'; at: Date }
  /** Another operation holds the cluster, or another worker holds this operation's lease. */
  | { state: 'busy'; key: string }
  | { state: 'claimed'; operation: EngineOperation; cluster: EngineCluster | null; key: string; resumed: boolean; cancelRequested: boolean };

/**
 * Takes the operation's lease and claims it, in one statement: the lease row is inserted, or
 * taken over when it belongs to this operation and has no owner (a yielded wait) or an expired one
 * (a dead worker), or when the operation holding it is no longer active. Then the operation
 * becomes `running` (its `running` event recorded only on the first claim), and comes back with
 * its steps and its cluster. `resumed` says the run continues a yielded wait (not a new attempt).
 * The lease key (the operation's cluster, else the operation) and the event are read from the
 * operation's row inside the statement: a claim is one round trip, with no read before it.
 */
export async function claim(db: Database, operationId: string, owner: string, leaseMs: number, now: Date): Promise<Claim> {
  const row = await claimStatement.executeTakeFirst(db, {
    operationId,
    owner,
    expiresAt: leaseUntil(now, leaseMs),
    now,
    eventId: newId('evt'),
    eventSource: `/v1/operations/${operationId}`,
    eventDeliveryIds: newDeliveryIds(),
  });
  if (!row || !(RUNNABLE as readonly string[]).includes(row.status)) return { state: 'idle' };
  if (row.status === 'pending' && row.wake_at !== null && row.wake_at > now) return { state: 'not_before', at: row.wake_at };
  if (row.id === null) return { state: 'busy', key: row.key };
  const operation: EngineOperation = {
    id: row.id,
    organizationId: row.organization_id!,
    clusterId: row.cluster_id,
    type: row.type!,
    targetType: row.target_type!,
    targetId: row.target_id!,
    params: row.params as Prisma.JsonValue,
    steps: row.steps as unknown as EngineStep[],
  };
  return {
    state: 'claimed',
    operation,
    cluster: row.cluster as unknown as EngineCluster | null,
    key: row.key,
    resumed: row.wake_at !== null && row.status !== 'pending',
    cancelRequested: row.cancel_requested_at !== null,
  };
}

type ClaimParameters = {
  operationId: string;
  owner: string;
  expiresAt: Date;
  now: Date;
  eventId: string;
  eventSource: string;
  eventDeliveryIds: string[];
};

const claimStatement = new CompiledOnce((db: Kysely<DB>, p: ClaimParameters) => {
  const base = db
    .with('op', (q) =>
      q
        .selectFrom('operations')
        .select([
          'id',
          'status',
          'wake_at',
          'organization_id',
          'cluster_id',
          'type',
          'target_type',
          'target_id',
          sql<string>`coalesce(cluster_id, id)`.as('key'),
        ])
        .where('id', '=', p.operationId),
    )
    .with('taken', (q) =>
      q
        .insertInto('operation_leases')
        .columns(['key', 'operation_id', 'owner', 'expires_at'])
        .expression(
          q
            .selectFrom('op')
            .select(['op.key', 'op.id as operation_id', sql<string>`${p.owner}::text`.as('owner'), sql<Date>`${p.expiresAt}::timestamptz`.as('expires_at')])
            .where('op.status', 'in', RUNNABLE)
            // Created to start later (`start: next_window`): not claimed before its time.
            .where((eb) => eb.or([eb('op.status', '=', 'running'), eb('op.wake_at', 'is', null), eb('op.wake_at', '<=', p.now)])),
        )
        .onConflict((oc) =>
          oc
            .column('key')
            .doUpdateSet((eb) => ({
              operation_id: eb.ref('excluded.operation_id'),
              owner: eb.ref('excluded.owner'),
              expires_at: eb.ref('excluded.expires_at'),
            }))
            .where((eb) =>
              eb.or([
                eb.and([
                  eb('operation_leases.operation_id', '=', eb.ref('excluded.operation_id')),
                  eb.or([eb('operation_leases.owner', 'is', null), eb('operation_leases.expires_at', '<', p.now)]),
                ]),
                eb.and([
                  eb('operation_leases.operation_id', '<>', eb.ref('excluded.operation_id')),
                  eb.not(
                    eb.exists(
                      eb
                        .selectFrom('operations as holder')
                        .select('holder.id')
                        .whereRef('holder.id', '=', 'operation_leases.operation_id')
                        .where('holder.status', 'in', ACTIVE),
                    ),
                  ),
                ]),
              ]),
            ),
        )
        .returning('key'),
    )
    .with('claimed', (q) =>
      q
        .updateTable('operations')
        .set((eb) => ({
          status: 'running',
          started_at: eb.fn.coalesce('started_at', sql<Date>`${p.now}::timestamptz`),
          // A poll after a yielded wait is the same attempt; anything else (a first run, a retry,
          // a rerun after a crash) counts.
          // (A pending operation's wake_at is its not-before time: its first claim is an attempt.)
          attempts: sql<number>`attempts + CASE WHEN wake_at IS NULL OR status = 'pending' THEN 1 ELSE 0 END`,
          wake_at: null,
          updated_at: p.now,
        }))
        .where('id', '=', p.operationId)
        .where('status', 'in', RUNNABLE)
        .where((eb) => eb.exists(eb.selectFrom('taken').select('taken.key')))
        .returning(['id', 'organization_id', 'cluster_id', 'type', 'target_type', 'target_id', 'params', 'cancel_requested_at']),
    );
  const running = expressionBuilder<{ claimed: { id: string }; op: { status: string } }, never>();
  const fromRow = operationEventColumns('op');
  return withEventValues(
    base,
    {
      id: p.eventId,
      organizationId: fromRow.organizationId,
      hookOrganizationId: fromRow.organizationId,
      type: 'dev.capstan.operation.running',
      source: p.eventSource,
      subject: fromRow.subject,
      data: fromRow.data('running'),
      time: p.now,
      deliveryIds: p.eventDeliveryIds,
    },
    running.and([
      running.exists(running.selectFrom('claimed').select('claimed.id')),
      running.exists(running.selectFrom('op').select('op.status').where('op.status', '=', 'pending')),
    ]),
  )
    .selectFrom('op')
    .leftJoin('claimed', 'claimed.id', 'op.id')
    .select((eb) => [
      'op.key',
      'op.wake_at',
      'op.status',
      'claimed.id',
      'claimed.organization_id',
      'claimed.cluster_id',
      'claimed.type',
      'claimed.target_type',
      'claimed.target_id',
      'claimed.params',
      'claimed.cancel_requested_at',
      jsonArrayFrom(
        eb
          .selectFrom('operation_steps as s')
          .select(['s.position', 's.name', 's.status', 's.attempts', 's.checkpoint', 's.wait', 's.retrying_since as retryingSince'])
          .whereRef('s.operation_id', '=', 'claimed.id')
          .orderBy('s.position'),
      ).as('steps'),
      jsonObjectFrom(
        eb
          .selectFrom('clusters as k')
          .select((k) => [
            'k.id',
            'k.organization_id as organizationId',
            'k.provider',
            'k.region',
            'k.desired_version as desiredVersion',
            'k.labels',
            jsonArrayFrom(
              k
                .selectFrom('node_pools as p')
                .select([
                  'p.id',
                  'p.name',
                  'p.machine_type as machineType',
                  'p.node_count as nodeCount',
                  'p.autoscale_min as autoscaleMin',
                  'p.autoscale_max as autoscaleMax',
                  'p.version',
                  'p.labels',
                  'p.taints',
                  'p.max_surge as maxSurge',
                  'p.max_unavailable as maxUnavailable',
                  'p.deleted_at as deletedAt',
                ])
                .whereRef('p.cluster_id', '=', 'k.id')
                .orderBy('p.id'),
            ).as('nodePools'),
          ])
          .whereRef('k.id', '=', 'claimed.cluster_id'),
      ).as('cluster'),
    ]);
});

export interface FinishedStep {
  position: number;
  /** Null keeps what the step had (a step that learnt nothing). */
  checkpoint: Record<string, unknown> | null;
  /** The step's own writes, committed with its checkpoint (`StepContext.writeWithCheckpoint`). */
  writes?: PendingStepWrites;
}

/** Renews the run's lease; false when it was lost (another worker took the operation over). */
export async function renewLease(db: Database, run: Run, now: Date): Promise<boolean> {
  const renewed = await db
    .updateTable('operation_leases')
    .set({ expires_at: leaseUntil(now, run.leaseMs) })
    .where('key', '=', run.key)
    .where('operation_id', '=', run.operationId)
    .where('owner', '=', run.owner)
    .executeTakeFirst();
  return renewed.numUpdatedRows > 0n;
}

/** The lease held by this run, renewed: the guard of every statement after the claim. */
const heldLease = (db: Database, run: Run, now: Date) => heldLeaseOf(db, { ...run, expiresAt: leaseUntil(now, run.leaseMs) });

const heldLeaseOf = (db: Kysely<DB>, p: { key: string; operationId: string; owner: string; expiresAt: Date }) =>
  db.with('held', (q) =>
    q
      .updateTable('operation_leases')
      .set({ expires_at: p.expiresAt })
      .where('key', '=', p.key)
      .where('operation_id', '=', p.operationId)
      .where('owner', '=', p.owner)
      .returning('key'),
  );

export type Boundary = { state: 'lost' } | { state: 'go' } | { state: 'cancel' };

type BoundaryParameters = {
  operationId: string;
  key: string;
  owner: string;
  expiresAt: Date;
  /** -1 when no step finished (the run's first boundary). */
  finishedPosition: number;
  /** JSON text, or null to keep the step's checkpoint. */
  checkpoint: string | null;
  progress: number | null;
  next: number;
  resumed: boolean;
  now: Date;
};

function boundaryQuery(db: Kysely<DB>, p: BoundaryParameters, writes?: BoundWrites) {
  const statement = heldLeaseOf(db, p)
    .with('finished_step', (q) =>
      q
        .updateTable('operation_steps')
        .set((eb) => ({
          status: 'succeeded',
          finished_at: p.now,
          wait: null,
          retrying_since: null,
          checkpoint: eb.fn.coalesce(sql<unknown>`${p.checkpoint}::jsonb`, 'checkpoint'),
        }))
        .where('operation_id', '=', p.operationId)
        .where('position', '=', p.finishedPosition)
        .where('status', 'in', stepStatusesBefore('succeeded'))
        .where((eb) => eb.exists(eb.selectFrom('held').select('held.key'))),
    )
    .with('op', (q) =>
      q
        .updateTable('operations')
        .set((eb) => ({ progress: eb.fn.coalesce(sql<number>`${p.progress}::int`, 'progress'), updated_at: p.now }))
        .where('id', '=', p.operationId)
        .where('status', '=', 'running')
        .where((eb) => eb.exists(eb.selectFrom('held').select('held.key')))
        .returning('cancel_requested_at'),
    )
    .with('started', (q) =>
      q
        .updateTable('operation_steps')
        .set({
          status: 'running',
          attempts: sql<number>`attempts + CASE WHEN ${p.resumed}::boolean THEN 0 ELSE 1 END`,
          started_at: sql<Date>`coalesce(CASE WHEN ${p.resumed}::boolean THEN started_at END, ${p.now}::timestamptz)`,
        })
        .where('operation_id', '=', p.operationId)
        .where('position', '=', p.next)
        .where('status', 'in', stepStatusesBefore('running'))
        .where((eb) => eb.exists(eb.selectFrom('op').select('op.cancel_requested_at').where('op.cancel_requested_at', 'is', null))),
    );
  return withStepWrites(statement, writes, 'held').selectFrom('op').select('cancel_requested_at');
}

const boundaryStatement = new CompiledOnce((db, p: BoundaryParameters) => boundaryQuery(db, p));
const boundariesWithWrites = new WeakMap<Declared, CompiledOnce<BoundaryParameters, { cancel_requested_at: Date | null }>>();

/**
 * A step boundary: the step that just finished is checkpointed (with its own writes, if it has
 * any), progress moves, and the next step starts unless a cancel was asked for meanwhile.
 * `resumed` (the next step is a wait resumed after a yield) does not count as a new attempt of it.
 */
export async function boundary(
  db: Database,
  run: Run,
  finished: FinishedStep | undefined,
  progress: number | null,
  next: number,
  resumed: boolean,
  now: Date,
): Promise<Boundary> {
  const parameters: BoundaryParameters = {
    operationId: run.operationId,
    key: run.key,
    owner: run.owner,
    expiresAt: leaseUntil(now, run.leaseMs),
    finishedPosition: finished?.position ?? -1,
    checkpoint: finished?.checkpoint == null ? null : JSON.stringify(finished.checkpoint),
    progress,
    next,
    resumed,
    now,
  };
  const writes = finished?.writes;
  const statement = writes ? compiledWithWrites(boundariesWithWrites, writes.statement, boundaryQuery) : boundaryStatement;
  const [row] = await statement.execute(db, { ...parameters, ...stepParameters(writes) });
  if (!row) return { state: 'lost' };
  return row.cancel_requested_at ? { state: 'cancel' } : { state: 'go' };
}

/**
 * The step gives its worker back: what it waits for is checkpointed, the lease keeps the cluster
 * for this operation but with no owner (whichever worker gets the delayed job takes it at once),
 * and `wake_at` says when the job is due. Returns false when the lease was lost.
 */
export async function yieldStep(db: Database, run: Run, position: number, wait: StepWait, wakeAt: Date, now: Date): Promise<boolean> {
  const rows = await releasedLease(db, run, leaseUntil(wakeAt, run.leaseMs))
    .with('step', (q) =>
      q
        .updateTable('operation_steps')
        .set({ wait: JSON.stringify(wait) })
        .where('operation_id', '=', run.operationId)
        .where('position', '=', position)
        .where('status', '=', 'running')
        .where((eb) => eb.exists(eb.selectFrom('released').select('released.key'))),
    )
    .updateTable('operations')
    .set({ wake_at: wakeAt, updated_at: now })
    .where('id', '=', run.operationId)
    .where('status', '=', 'running')
    .where((eb) => eb.exists(eb.selectFrom('released').select('released.key')))
    .returning('id')
    .execute();
  return rows.length > 0;
}

/**
 * A retryable failure inside the retry budget: the step is marked failed with its error (the next
 * run retries it as a new attempt), the start of the run of failures is kept, and the lease is
 * left without an owner until the backoff is over. Returns false when the lease was lost.
 */
export async function retryStep(db: Database, run: Run, position: number, message: string, retryAt: Date, now: Date): Promise<boolean> {
  const rows = await releasedLease(db, run, leaseUntil(retryAt, run.leaseMs))
    .with('step', (q) =>
      q
        .updateTable('operation_steps')
        .set((eb) => ({
          status: 'failed',
          error: JSON.stringify({ message }),
          wait: null,
          retrying_since: eb.fn.coalesce('retrying_since', sql<Date>`${now}::timestamptz`),
        }))
        .where('operation_id', '=', run.operationId)
        .where('position', '=', position)
        .where('status', '=', 'running')
        .where((eb) => eb.exists(eb.selectFrom('released').select('released.key'))),
    )
    .updateTable('operations')
    .set({ updated_at: now })
    .where('id', '=', run.operationId)
    .where('status', '=', 'running')
    .where((eb) => eb.exists(eb.selectFrom('released').select('released.key')))
    .returning('id')
    .execute();
  return rows.length > 0;
}

/**
 * The run's lease handed back without an owner: the cluster stays this operation's, and its next
 * run (the delayed job, on any worker) takes it at once. `until` covers the pause and a lease
 * period more; past it, the reconciler's rerun would take it anyway.
 */
const releasedLease = (db: Database, run: Run, until: Date) =>
  db.with('released', (q) =>
    q
      .updateTable('operation_leases')
      .set({ owner: null, expires_at: until })
      .where('key', '=', run.key)
      .where('operation_id', '=', run.operationId)
      .where('owner', '=', run.owner)
      .returning('key'),
  );

/**
 * A stopping worker hands the operation back at a step boundary: the step that just finished is
 * checkpointed (with its own writes) and the lease left without an owner, so another worker resumes at the next step.
 */
export async function handBack(db: Database, run: Run, finished: FinishedStep, now: Date): Promise<boolean> {
  const statement = releasedLease(db, run, leaseUntil(now, run.leaseMs)).with('finished_step', (q) =>
    q
      .updateTable('operation_steps')
      .set((eb) => ({
        status: 'succeeded',
        finished_at: now,
        wait: null,
        retrying_since: null,
        checkpoint: eb.fn.coalesce(sql<unknown>`${finished.checkpoint == null ? null : JSON.stringify(finished.checkpoint)}::jsonb`, 'checkpoint'),
      }))
      .where('operation_id', '=', run.operationId)
      .where('position', '=', finished.position)
      .where('status', '=', 'running')
      .where((eb) => eb.exists(eb.selectFrom('released').select('released.key'))),
  );
  const writes = finished.writes;
  const bound: BoundWrites | undefined = writes && ((creator, guard) => writes.statement(creator, guard, writes.parameters));
  const rows = await withStepWrites(statement, bound, 'released')
    .updateTable('operations')
    .set({ updated_at: now })
    .where('id', '=', run.operationId)
    .where('status', '=', 'running')
    .where((eb) => eb.exists(eb.selectFrom('released').select('released.key')))
    .returning('id')
    .execute();
  return rows.length > 0;
}

/** A step failed for good: its error kept, before the operation's end is written. */
export async function stepFailed(db: Database, run: Run, position: number, message: string, now: Date): Promise<void> {
  await heldLease(db, run, now)
    .updateTable('operation_steps')
    .set({ status: 'failed', error: JSON.stringify({ message }), wait: null })
    .where('operation_id', '=', run.operationId)
    .where('position', '=', position)
    .where((eb) => eb.exists(eb.selectFrom('held').select('held.key')))
    .execute();
}

export type EndStatus = 'succeeded' | 'failed' | 'cancelled' | 'needs_attention';

export interface Ending {
  status: EndStatus;
  error: Record<string, unknown> | null;
  /** The last step, when the ending is its success. */
  lastStep?: FinishedStep;
  /** Where a failure leaves the cluster (`clusterStatusAtEnd`) and the pool it targeted. */
  cluster?: ClusterStatusAtEnd & { /** The desired version becomes what runs (a failed upgrade). */ desiredIsCurrent?: boolean };
  failedPoolId?: string;
  /** A failure for good that was undone (docs/operations-engine.md, Failures for good). */
  undo?: FailureUndo;
}

/**
 * What undoing a failure did: the finished steps become `compensated` (their work is gone, or
 * recorded as orphans for the reconciler to delete), the steps that never ran `skipped`, and
 * the orphans are recorded in the same statement as the end, so none is lost to a crash.
 */
export interface FailureUndo {
  orphans: NewOrphan[];
}

export interface NewOrphan {
  id: string;
  organizationId: string;
  clusterId: string | null;
  provider: 'rke2' | 'gke';
  kind: 'cluster' | 'node_pool';
  externalCluster: string;
  externalName: string;
  reason: string;
}

/**
 * The operation's end, where it leaves the cluster, its event, and the cluster's lease given
 * back: all or nothing. Returns false when the run had lost its lease (nothing was written).
 */
export async function end(db: Database, run: Run, clusterId: string | null, ending: Ending, event: NewEvent, now: Date): Promise<boolean> {
  const { status, error, cluster } = ending;
  // Only a running operation ends; the write below is guarded by that status.
  operationTransition('running', status, run.operationId);
  const parameters: EndParameters = {
    operationId: run.operationId,
    key: run.key,
    owner: run.owner,
    lastPosition: ending.lastStep?.position ?? -1,
    checkpoint: ending.lastStep?.checkpoint == null ? null : JSON.stringify(ending.lastStep.checkpoint),
    status,
    error: error ? JSON.stringify(error) : null,
    progress: status === 'succeeded' ? 100 : null,
    finishedAt: status === 'needs_attention' ? null : now,
    now,
    clusterId: clusterId ?? '',
    touchesCluster: cluster !== undefined,
    clusterStatusIfDown: cluster?.ifDown.status ?? 'running',
    clusterReasonIfDown: cluster?.ifDown.reason ?? null,
    clusterStatusIfUp: cluster?.ifUp.status ?? 'running',
    clusterReasonIfUp: cluster?.ifUp.reason ?? null,
    desiredIsCurrent: cluster?.desiredIsCurrent === true,
    failedPoolId: ending.failedPoolId ?? '',
    undone: ending.undo !== undefined,
    orphans: JSON.stringify(orphanRows(ending.undo?.orphans ?? [])),
    ...eventParameters(eventValues(event, now)),
  };
  const writes = ending.lastStep?.writes;
  const statement = writes ? compiledWithWrites(endsWithWrites, writes.statement, endQuery) : endStatement;
  const [row] = await statement.execute(db, { ...parameters, ...stepParameters(writes) });
  return row?.ended === true;
}

type EndParameters = EventParameters & {
  operationId: string;
  key: string;
  owner: string;
  /** The last step, when the ending is its success; else -1. */
  lastPosition: number;
  checkpoint: string | null;
  status: EndStatus;
  error: string | null;
  progress: number | null;
  finishedAt: Date | null;
  now: Date;
  clusterId: string;
  touchesCluster: boolean;
  /** Where the end leaves the cluster if the SLA monitor holds its API server down as the row is written, and if not. */
  clusterStatusIfDown: ClusterStatus;
  clusterReasonIfDown: string | null;
  clusterStatusIfUp: ClusterStatus;
  clusterReasonIfUp: string | null;
  desiredIsCurrent: boolean;
  failedPoolId: string;
  undone: boolean;
  /** JSON text of the orphans' rows. */
  orphans: string;
};

function endQuery(db: Kysely<DB>, p: EndParameters, writes?: BoundWrites) {
  // The lease is given back by the statement's guard itself: a DELETE of the row this run owns.
  // (Not an UPDATE to renew it and a DELETE after: one statement cannot change a row twice.)
  const statement = db
    .with('held', (q) =>
      q.deleteFrom('operation_leases').where('key', '=', p.key).where('operation_id', '=', p.operationId).where('owner', '=', p.owner).returning('key'),
    )
    .with('finished_step', (q) =>
      q
        .updateTable('operation_steps')
        .set((eb) => ({
          status: 'succeeded',
          finished_at: p.now,
          wait: null,
          retrying_since: null,
          checkpoint: eb.fn.coalesce(sql<unknown>`${p.checkpoint}::jsonb`, 'checkpoint'),
        }))
        .where('operation_id', '=', p.operationId)
        .where('position', '=', p.lastPosition)
        .where('status', 'in', stepStatusesBefore('succeeded'))
        .where((eb) => eb.exists(eb.selectFrom('held').select('held.key'))),
    )
    .with('op', (q) =>
      q
        .updateTable('operations')
        .set((eb) => ({
          status: p.status,
          error: eb.fn.coalesce(sql<unknown>`${p.error}::jsonb`, 'error'),
          progress: eb.fn.coalesce(sql<number>`${p.progress}::int`, 'progress'),
          finished_at: p.finishedAt,
          wake_at: null,
          updated_at: p.now,
        }))
        .where('id', '=', p.operationId)
        .where('status', '=', 'running')
        .where((eb) => eb.exists(eb.selectFrom('held').select('held.key')))
        .returning('id'),
    )
    .with('cluster', (q) =>
      q
        .updateTable('clusters')
        .set(() => ({
          // Decided by the row's own view of the monitor as it is written (docs/operations-engine.md,
          // "Where an operation leaves its cluster"): a degraded cluster shows the monitor's reason.
          status: sql<ClusterStatus>`(CASE WHEN api_server_down_since IS NOT NULL THEN ${p.clusterStatusIfDown}::text ELSE ${p.clusterStatusIfUp}::text END)::"ClusterStatus"`,
          status_reason: sql<string | null>`CASE WHEN api_server_down_since IS NOT NULL
            THEN (CASE WHEN ${p.clusterStatusIfDown}::text = 'degraded' THEN api_server_down_reason ELSE ${p.clusterReasonIfDown}::text END)
            ELSE ${p.clusterReasonIfUp}::text END`,
          desired_version: sql<string>`CASE WHEN ${p.desiredIsCurrent}::boolean THEN current_version ELSE desired_version END`,
          updated_at: p.now,
        }))
        .where('id', '=', p.clusterId)
        .where(sql<boolean>`${p.touchesCluster}::boolean`)
        .where((eb) => eb.exists(eb.selectFrom('op').select('op.id'))),
    )
    .with('pool', (q) =>
      q
        .updateTable('node_pools')
        .set({ status: 'error', updated_at: p.now })
        .where('id', '=', p.failedPoolId)
        .where((eb) => eb.exists(eb.selectFrom('op').select('op.id'))),
    )
    .with('compensated_steps', (q) =>
      q
        .updateTable('operation_steps')
        .set({ status: 'compensated' })
        .where('operation_id', '=', p.operationId)
        .where('status', 'in', stepStatusesBefore('compensated'))
        .where(sql<boolean>`${p.undone}::boolean`)
        .where((eb) => eb.exists(eb.selectFrom('op').select('op.id'))),
    )
    .with('skipped_steps', (q) =>
      q
        .updateTable('operation_steps')
        .set({ status: 'skipped' })
        .where('operation_id', '=', p.operationId)
        // The step that failed stays `failed`: it says where and why.
        .where('status', '=', 'pending')
        .where(sql<boolean>`${p.undone}::boolean`)
        .where((eb) => eb.exists(eb.selectFrom('op').select('op.id'))),
    )
    .with('orphans', (q) =>
      q
        .insertInto('orphans')
        .columns(['id', 'organization_id', 'cluster_id', 'operation_id', 'provider', 'kind', 'external_cluster', 'external_name', 'reason', 'updated_at'])
        .expression(
          sql`SELECT o.id, o.organization_id, o.cluster_id, ${p.operationId}::text, o.provider::"Provider", o.kind::"OrphanKind", o.external_cluster, o.external_name, o.reason, ${p.now}::timestamptz
                FROM jsonb_to_recordset(${p.orphans}::jsonb)
                  AS o(id text, organization_id text, cluster_id text, provider text, kind text, external_cluster text, external_name text, reason text)
               WHERE EXISTS (SELECT 1 FROM op)`,
        )
        .onConflict((oc) => oc.columns(['operation_id', 'kind', 'external_cluster', 'external_name']).doNothing()),
    );
  const ended = expressionBuilder<{ op: { id: string } }, never>();
  return withEventValues(withStepWrites(statement, writes, 'held'), eventOf(p), ended.exists(ended.selectFrom('op').select('op.id'))).selectNoFrom((eb) => [
    eb.exists(eb.selectFrom('op').select('op.id')).as('ended'),
  ]);
}

const endStatement = new CompiledOnce((db, p: EndParameters) => endQuery(db, p));
const endsWithWrites = new WeakMap<Declared, CompiledOnce<EndParameters, { ended: SqlBool }>>();

const orphanRows = (orphans: NewOrphan[]) =>
  orphans.map((o) => ({
    id: o.id,
    organization_id: o.organizationId,
    cluster_id: o.clusterId,
    provider: o.provider,
    kind: o.kind,
    external_cluster: o.externalCluster,
    external_name: o.externalName,
    reason: o.reason,
  }));
