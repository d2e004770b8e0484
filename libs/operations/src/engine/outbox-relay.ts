import { BackgroundWork, Database, DatabaseConfig, EngineConfig, Metrics, pgConnectionFromUrl } from '@capstan/platform';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Client } from 'pg';
import { OPERATIONS_TOPIC, OUTBOX_CHANNEL, type OutboxNotice } from '../operations.repository';
import { type OperationJob, operationJobOptions, OPERATIONS_QUEUE } from './operations-queue';

const BATCH = 200;
const SWEEP_MS = 2_000;
/** Relayed messages are kept this long (to look into a delivery), then deleted hourly. */
const KEEP_DISPATCHED_MS = 24 * 3_600_000;

/**
 * Moves outbox messages into BullMQ. The fast path is the notification: each NOTIFY (sent when an
 * API transaction commits) carries its message (`OutboxNotice`), so the listening relay adds the
 * job to BullMQ at once, with no read of the outbox before it, then marks the messages
 * dispatched in one UPDATE, batched, off the path of the next jobs. The slow path is the
 * periodic sweep (a missed notification, a Redis that was down, a listener that died, a message
 * from a release whose notification carried nothing): it reads undispatched messages in batches.
 * A message is marked dispatched only after BullMQ accepted it; one relayed twice, by both paths
 * or by two relays, is still one job (jobId).
 *
 * Why the notification carries the message: reading it back first (a transaction of BEGIN,
 * SELECT ... FOR UPDATE, the Redis add, UPDATE, COMMIT) put four Postgres round trips between
 * the commit and the job, each one waiting on a busy pool and CPU.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRelay.name);
  private listener: Client | undefined;
  private readonly background = new BackgroundWork(OutboxRelay.name);
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Notified messages not yet added to BullMQ, and the loop adding them. */
  private notified: OutboxNotice[] = [];
  private relayingNotified: Promise<void> | undefined;
  /** Marks of relayed messages, one UPDATE at a time, in order. */
  private marking: Promise<void> = Promise.resolve();

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

  /** A notification heard: its message goes to BullMQ now; one that carries nothing wakes the sweep. */
  onNotification(payload: string | undefined): void {
    const notice = parseNotice(payload);
    if (!notice) return this.wake();
    if (this.stopped) return;
    this.notified.push(notice);
    this.relayingNotified ??= this.background.track(this.relayNotified().finally(() => (this.relayingNotified = undefined)));
  }

  /**
   * Adds the notified messages' jobs, all those heard meanwhile in one addBulk; the marks follow
   * on their own. A failed add (Redis away) leaves the messages to the sweep, which is woken.
   */
  private async relayNotified(): Promise<void> {
    while (this.notified.length > 0 && !this.stopped) {
      const batch = this.notified.splice(0, BATCH);
      try {
        await this.queue.addBulk(
          batch.map((n) => ({
            name: 'run',
            data: { operationId: n.operationId, requestId: n.requestId },
            opts: operationJobOptions(this.engine, n.operationId),
          })),
        );
      } catch (error) {
        this.logger.warn({ err: error instanceof Error ? error.message : error }, 'outbox relay failed; the sweep will retry');
        this.wake();
        continue;
      }
      this.metrics?.outboxRelayed.inc(batch.length);
      const at = new Date();
      const ids = batch.map((n) => BigInt(n.id));
      this.marking = this.background.track(
        this.marking.then(() =>
          this.markDispatched(ids, at).catch((error: unknown) =>
            // Unmarked, they are relayed again by the sweep: the same jobs (jobId), nothing doubled.
            this.logger.warn({ err: error instanceof Error ? error.message : error }, 'marking relayed outbox messages failed'),
          ),
        ),
      );
    }
  }

  private async markDispatched(ids: bigint[], at: Date): Promise<void> {
    await this.db
      .updateTable('outbox_messages')
      .set((eb) => ({ dispatched_at: at, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', ids)
      .where('dispatched_at', 'is', null)
      .execute();
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
          client.on('notification', (message) => this.onNotification(message.payload));
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

/** The notice in a NOTIFY payload, or undefined when it carries none (an older release, a hand-made NOTIFY). */
export function parseNotice(payload: string | undefined): OutboxNotice | undefined {
  if (!payload) return undefined;
  try {
    const value = JSON.parse(payload) as Partial<OutboxNotice>;
    if (typeof value.id !== 'string' || !/^\d+$/.test(value.id) || typeof value.operationId !== 'string') return undefined;
    return { id: value.id, operationId: value.operationId, requestId: typeof value.requestId === 'string' ? value.requestId : null };
  } catch {
    return undefined;
  }
}
