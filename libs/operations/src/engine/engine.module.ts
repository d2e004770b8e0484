import { EngineConfig, RedisConnections } from '@capstan/platform';
import { ClusterProvidersModule } from '@capstan/kube';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EngineGauges } from './engine-gauges';
import { OperationRunner } from './operation-runner';
import { OPERATIONS_QUEUE, queuePrefix } from './operations-queue';
import { OperationsProcessor } from './operations.processor';
import { OutboxRelay } from './outbox-relay';
import { OrphanCleaner } from './orphan-cleaner';
import { Reconciler } from './reconciler';
import { StepRegistry } from './step-registry';

/**
 * The worker side of operations: outbox relay, BullMQ processor, runner and reconciler.
 *
 * Stalled jobs: a job's lock lasts `JOB_LOCK_MS` and is renewed at half that while the worker is
 * alive; a killed worker's job is seen as stalled at the next check (every lock period) and handed
 * to another worker. `maxStalledCount` is generous because a stall here means a dead worker, not
 * a poisoned job (steps are idempotent); beyond it the job fails and the reconciler re-adds it.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [RedisConnections, EngineConfig],
      useFactory: (redis: RedisConnections, engine: EngineConfig) => ({
        connection: redis.openForQueues('operations'),
        prefix: queuePrefix(redis),
        workerOptions: undefined,
        defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: engine.maxAttempts },
      }),
    }),
    BullModule.registerQueueAsync({
      name: OPERATIONS_QUEUE,
    }),
    ClusterProvidersModule,
    DiscoveryModule,
  ],
  providers: [StepRegistry, OperationRunner, OperationsProcessor, OutboxRelay, Reconciler, OrphanCleaner, EngineGauges],
  exports: [OutboxRelay, Reconciler, OperationRunner, OrphanCleaner],
})
export class OperationsEngineModule {}
