import { type CapstanConfig, PlatformModule } from '@capstan/platform';
import { type DynamicModule, Module } from '@nestjs/common';

/** The customer and staff HTTP API: mounts the feature modules' controllers, nothing more. */
@Module({})
export class ApiModule {
  static forRoot(config: CapstanConfig): DynamicModule {
    return { module: ApiModule, imports: [PlatformModule.forRoot(config, 'api')] };
  }
}
