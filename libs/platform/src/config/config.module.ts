import { type DynamicModule, Global, Module } from '@nestjs/common';
import {
  AuthConfig,
  type CapstanConfig,
  DatabaseConfig,
  EngineConfig,
  GkeConfig,
  SlaMonitorConfig,
  HttpConfig,
  LogConfig,
  ProviderConfig,
  RedisConfig,
  Rke2Config,
  SecretsConfig,
  WebhookConfig,
} from './config';

export const CAPSTAN_CONFIG = Symbol('CAPSTAN_CONFIG');

/**
 * Provides each concern's config object under its class, so `constructor(db: DatabaseConfig)`
 * is all a service writes. The config is loaded before the module graph is built (in each app's
 * main), never inside decorators.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: CapstanConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: CAPSTAN_CONFIG, useValue: config },
        { provide: HttpConfig, useValue: config.http },
        { provide: DatabaseConfig, useValue: config.database },
        { provide: RedisConfig, useValue: config.redis },
        { provide: LogConfig, useValue: config.log },
        { provide: SecretsConfig, useValue: config.secrets },
        { provide: ProviderConfig, useValue: config.provider },
        { provide: Rke2Config, useValue: config.rke2 },
        { provide: GkeConfig, useValue: config.gke },
        { provide: AuthConfig, useValue: config.auth },
        { provide: EngineConfig, useValue: config.engine },
        { provide: SlaMonitorConfig, useValue: config.slaMonitor },
        { provide: WebhookConfig, useValue: config.webhooks },
      ],
      exports: [
        CAPSTAN_CONFIG,
        AuthConfig,
        EngineConfig,
        SlaMonitorConfig,
        HttpConfig,
        DatabaseConfig,
        RedisConfig,
        LogConfig,
        SecretsConfig,
        ProviderConfig,
        Rke2Config,
        GkeConfig,
        WebhookConfig,
      ],
    };
  }
}
