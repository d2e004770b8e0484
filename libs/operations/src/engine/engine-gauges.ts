import { ACTIVE_OPERATION_STATUSES } from '@capstan/domain';
import { Database, Metrics } from '@capstan/platform';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { sql } from 'kysely';
import { OPERATIONS_TOPIC } from '../operations.repository';
import { type OperationJob, OPERATIONS_QUEUE } from './operations-queue';

/** The BullMQ job states the queue gauge reports (a bounded label set). */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed', 'paused'] as const;

/**
 * The fleet's operations, outbox and queue as gauges, read from Postgres and Redis when the worker
 * is scraped (docs/observability.md). Each worker replica reports the same fleet-wide numbers;
 * the dashboard and alerts take their `max`. Three cheap statements per scrape: a grouped count
 * of the operations not yet ended, the outbox's oldest unrelayed message, BullMQ's counters.
 */
@Injectable()
export class EngineGauges implements OnModuleInit {
  constructor(
    private readonly db: Database,
    private readonly metrics: Metrics,
    @InjectQueue(OPERATIONS_QUEUE) private readonly queue: Queue<OperationJob>,
  ) {}

  onModuleInit(): void {
    const m = this.metrics;
    m.sampleWith([m.operations, m.operationsWaiting, m.oldestActiveOperation], () => this.sampleOperations());
    m.sampleWith([m.outboxLag, m.outboxPending], () => this.sampleOutbox());
    m.sampleWith([m.queueJobs], () => this.sampleQueue());
  }

  async sampleOperations(): Promise<void> {
    const rows = await this.db
      .selectFrom('operations')
      .select((eb) => [
        'type',
        'status',
        eb.fn.countAll<string>().as('n'),
        eb.fn.min('created_at').as('oldest'),
        sql<string>`count(*) FILTER (WHERE wake_at IS NOT NULL)`.as('waiting'),
      ])
      .where('status', 'in', [...ACTIVE_OPERATION_STATUSES])
      .groupBy(['type', 'status'])
      .execute();
    const now = Date.now();
    const m = this.metrics;
    // Reset first: a type with nothing active any more must read 0, not its last count.
    m.operations.reset();
    m.oldestActiveOperation.reset();
    let waiting = 0;
    const oldest = new Map<string, number>();
    for (const row of rows) {
      m.operations.set({ type: row.type, status: row.status }, Number(row.n));
      waiting += Number(row.waiting);
      // An operation waiting for staff (needs_attention) is old by design; only work that should move counts.
      if (row.status === 'needs_attention') continue;
      const age = Math.max(0, (now - new Date(row.oldest).getTime()) / 1000);
      oldest.set(row.type, Math.max(oldest.get(row.type) ?? 0, age));
    }
    for (const [type, age] of oldest) m.oldestActiveOperation.set({ type }, age);
    m.operationsWaiting.set(waiting);
  }

  async sampleOutbox(): Promise<void> {
    const row = await this.db
      .selectFrom('outbox_messages')
      .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.min('created_at').as('oldest')])
      .where('dispatched_at', 'is', null)
      .where('topic', '=', OPERATIONS_TOPIC)
      .executeTakeFirstOrThrow();
    this.metrics.outboxPending.set(Number(row.n));
    this.metrics.outboxLag.set(row.oldest ? Math.max(0, (Date.now() - new Date(row.oldest).getTime()) / 1000) : 0);
  }

  async sampleQueue(): Promise<void> {
    const counts = await this.queue.getJobCounts(...QUEUE_STATES);
    for (const state of QUEUE_STATES) this.metrics.queueJobs.set({ queue: OPERATIONS_QUEUE, state }, counts[state] ?? 0);
  }
}
