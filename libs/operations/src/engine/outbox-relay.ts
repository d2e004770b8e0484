import { BackgroundWork, Database, DatabaseConfig, EngineConfig, Metrics, pgConnectionFromUrl } from '@capstan/platform';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Client } from 'pg';
import { OPERATIONS_TOPIC, OUTBOX_CHANNEL } from '../operations.repository';
import { type OperationJob, operationJobOptions, OPERATIONS_QUEUE } from './operations-queue';

const BATCH = 200;
const SWEEP_MS = 2_000;
/** Relayed messages are kept this long (to look into a delivery), then deleted hourly. */
const KEEP_DISPATCHED_MS = 24 * 3_600_000;

/**
 * Moves outbox messages into BullMQ. Woken by LISTEN/NOTIFY when an API transaction commits, with
 * a periodic sweep as the safety net (a missed notification, a Redis that was down, a listener
 * that died). A message is marked dispatched only after BullMQ accepted it; one relayed twice is
 * still one job (jobId).
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRelay.name);
  private listener: Client | undefined;
  private readonly background = new BackgroundWork(OutboxRelay.name);
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly databaseConfig: DatabaseConfig,
    private readonly engine: EngineConfig,
    @InjectQueue(OPERATIONS_QUEUE) private readonly queue: Queue<OperationJob>,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    void this.listen();
    this.background.every(SWEEP_MS, 'outbox sweep', async () => this.wake());
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.listener?.end().catch(() => undefined);
    // The relay run in flight (it is tracked) and a prune finish before the pool closes.
    await this.background.stop();
  }

  /** Relays until the outbox is empty; calls during a run make it go round once more. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.background.track(
      (async () => {
        do {
          this.again = false;
          try {
            while ((await this.relayBatch()) === BATCH);
          } catch (error) {
            this.logger.warn({ err: error instanceof Error ? error.message : error }, 'outbox relay failed; will retry');
          }
        } while (this.again && !this.stopped);
      })().finally(() => (this.running = undefined)),
    );
  }

  /** One batch, locked with SKIP LOCKED so several relays (worker replicas) share the work. */
  async relayBatch(): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const messages = await trx
        .selectFrom('outbox_messages')
        .select(['id', 'dedupe_key', 'payload'])
        .where('dispatched_at', 'is', null)
        .where('topic', '=', OPERATIONS_TOPIC)
        .orderBy('id')
        .limit(BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      if (messages.length === 0) return 0;
      await this.queue.addBulk(
        messages.map((m) => {
          const payload = m.payload as { operationId: string; requestId?: string | null };
          return {
            name: 'run',
            data: { operationId: payload.operationId, requestId: payload.requestId ?? null },
            opts: operationJobOptions(this.engine, m.dedupe_key),
          };
        }),
      );
      await trx
        .updateTable('outbox_messages')
        .set((eb) => ({ dispatched_at: new Date(), attempts: eb('attempts', '+', 1) }))
        .where(
          'id',
          'in',
          messages.map((m) => m.id),
        )
        .execute();
      this.metrics?.outboxRelayed.inc(messages.length);
      return messages.length;
    });
  }

  /**
   * Deletes messages relayed more than a day ago, in short batches; returns how many. Run hourly
   * for the whole fleet by a job scheduler (see Reconciler), not by every worker.
   */
  async pruneDispatched(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - KEEP_DISPATCHED_MS);
    let total = 0;
    for (;;) {
      const deleted = await this.db
        .deleteFrom('outbox_messages')
        .where('id', 'in', (eb) => eb.selectFrom('outbox_messages').select('id').where('dispatched_at', '<', cutoff).orderBy('dispatched_at').limit(5_000))
        .returning('id')
        .execute();
      total += deleted.length;
      if (deleted.length < 5_000) return total;
    }
  }

  /**
   * One relay of all the workers listens (the one holding the relay lock, a session advisory lock
   * on its LISTEN connection): every commit wakes one relay instead of all of them racing for the
   * same rows. The others only sweep, and take over within a sweep period when the listener's
   * connection goes (its process died), since the lock goes with it.
   */
  private async listen(): Promise<void> {
    while (!this.stopped) {
      const client = new Client({ ...pgConnectionFromUrl(this.databaseConfig.url), application_name: 'capstan-outbox-relay' });
      // A lost connection must end this listener, not the process.
      client.on('error', () => undefined);
      try {
        await client.connect();
        const { rows } = await client.query<{ leader: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended('capstan-outbox-relay', 0)) AS leader`);
        if (rows[0]?.leader) {
          await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
          this.listener = client;
          client.on('notification', () => this.wake());
          // Anything committed while nobody was listening is picked up now.
          this.wake();
          await new Promise<void>((resolve) => {
            client.on('error', () => resolve());
            client.on('end', () => resolve());
          });
        }
      } catch {
        // Postgres away: the sweep keeps trying; reconnect after a pause.
      }
      this.listener = undefined;
      await client.end().catch(() => undefined);
      if (!this.stopped) await new Promise((r) => setTimeout(r, SWEEP_MS).unref());
    }
  }
}
