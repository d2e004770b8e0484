import type { EngineConfig, RedisConnections } from '@capstan/platform';
import { type JobsOptions, Queue } from 'bullmq';

export const OPERATIONS_QUEUE = 'operations';

export interface OperationJob {
  operationId: string;
  /** The request that caused the operation, so the worker's log lines carry it too. */
  requestId?: string | null;
}

/**
 * Jobs are named by their operation id, so relaying an outbox message twice never makes two
 * jobs. Finished jobs are removed at once: Postgres holds the outcome, and a job id that is free
 * again lets the reconciler or a staff retry hand the operation back to the workers.
 */
export function operationJobOptions(config: EngineConfig, operationId: string): JobsOptions {
  return {
    jobId: operationId,
    attempts: config.maxAttempts,
    backoff: { type: 'exponential', delay: config.backoffMs },
    removeOnComplete: true,
    removeOnFail: true,
  };
}

/** Where BullMQ keeps Capstan's queues in Redis (under the installation's REDIS_PREFIX). */
export function queuePrefix(redis: RedisConnections): string {
  return `${redis.prefix}:bull`;
}

/**
 * The operations queue for a process that only looks at it (the API's staff queue board): no
 * worker, its own connection, closed by the caller.
 */
export function openOperationsQueue(redis: RedisConnections): Queue<OperationJob> {
  return new Queue<OperationJob>(OPERATIONS_QUEUE, { connection: redis.openForQueues('queue-board'), prefix: queuePrefix(redis) });
}
