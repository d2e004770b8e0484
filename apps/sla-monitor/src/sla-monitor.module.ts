import { type CapstanConfig, PlatformModule } from '@capstan/platform';
import { type DynamicModule, Module } from '@nestjs/common';

@Module({})
export class SlaMonitorModule {
  static forRoot(config: CapstanConfig): DynamicModule {
    return { module: SlaMonitorModule, imports: [PlatformModule.forRoot(config, 'sla-monitor')] };
  }
}
