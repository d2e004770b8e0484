import { type CapstanConfig, PlatformModule } from '@capstan/platform';
import { WebhooksWorkerModule } from '@capstan/events';
import { OperationsEngineModule } from '@capstan/operations';
import { type DynamicModule, Module } from '@nestjs/common';

/** The worker: runs operations (BullMQ) and relays the outbox; HTTP only for health and metrics. */
@Module({})
export class WorkerModule {
  static forRoot(config: CapstanConfig): DynamicModule {
    return { module: WorkerModule, imports: [PlatformModule.forRoot(config, 'worker'), OperationsEngineModule, WebhooksWorkerModule] };
  }
}
