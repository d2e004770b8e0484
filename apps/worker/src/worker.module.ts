import { type CapstanConfig, PlatformModule } from '@capstan/platform';
import { type DynamicModule, Module } from '@nestjs/common';

@Module({})
export class WorkerModule {
  static forRoot(config: CapstanConfig): DynamicModule {
    return { module: WorkerModule, imports: [PlatformModule.forRoot(config, 'worker')] };
  }
}
