import { DatabaseConfig, EngineConfig, pgConnectionFromUrl, Prisma } from '@capstan/platform';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Client } from 'pg';
import { OPERATIONS_TOPIC, OUTBOX_CHANNEL } from '../operations.repository';
import { EngineDatabase } from './engine-database';
import { type OperationJob, operationJobOptions, OPERATIONS_QUEUE } from './operations-queue';

const BATCH = 200;
const SWEEP_MS = 2_000;
/** Relayed messages are kept this long (to look into a delivery), then deleted hourly. */
const KEEP_DISPATCHED_MS = 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

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
  private sweep: NodeJS.Timeout | undefined;
  private pruning: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly database: EngineDatabase,
    private readonly databaseConfig: DatabaseConfig,
    private readonly engine: EngineConfig,
    @InjectQueue(OPERATIONS_QUEUE) private readonly queue: Queue<OperationJob>,
  ) {}

  onApplicationBootstrap(): void {
    void this.listen();
    this.sweep = setInterval(() => this.wake(), SWEEP_MS);
    this.pruning = setInterval(() => void this.pruneDispatched().catch((error) => this.logger.warn({ err: String(error) }, 'pruning the outbox failed')), PRUNE_EVERY_MS);
    this.pruning.unref();
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweep);
    clearInterval(this.pruning);
    await this.listener?.end().catch(() => undefined);
    await this.running;
  }

  /** Relays until the outbox is empty; calls during a run make it go round once more. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          while ((await this.relayBatch()) === BATCH);
        } catch (error) {
          this.logger.warn({ err: error instanceof Error ? error.message : error }, 'outbox relay failed; will retry');
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
  }

  /** One batch, locked with SKIP LOCKED so several relays (worker replicas) share the work. */
  async relayBatch(): Promise<number> {
    return this.database.transaction(async (query) => {
      const messages = await query<{ id: string; dedupe_key: string; payload: { operationId: string; requestId?: string | null } }>(Prisma.sql`
        SELECT id, dedupe_key, payload FROM outbox_messages
        WHERE dispatched_at IS NULL AND topic = ${OPERATIONS_TOPIC}
        ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`);
      if (messages.length === 0) return 0;
      await this.queue.addBulk(
        messages.map((m) => ({
          name: 'run',
          data: { operationId: m.payload.operationId, requestId: m.payload.requestId ?? null },
          opts: operationJobOptions(this.engine, m.dedupe_key),
        })),
      );
      await query(Prisma.sql`
        UPDATE outbox_messages SET dispatched_at = now(), attempts = attempts + 1
        WHERE id = ANY(${messages.map((m) => m.id)}::bigint[])`);
      return messages.length;
    });
  }

  /** Deletes messages relayed more than a day ago, in short batches; returns how many. */
  async pruneDispatched(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - KEEP_DISPATCHED_MS);
    let total = 0;
    for (;;) {
      const deleted = await this.database.transaction((query) =>
        query<{ id: string }>(Prisma.sql`
          DELETE FROM outbox_messages WHERE id IN (
            SELECT id FROM outbox_messages WHERE dispatched_at < ${cutoff}::timestamptz ORDER BY dispatched_at LIMIT 5000)
          RETURNING id`),
      );
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
