import { type DynamicModule, Module } from '@nestjs/common';
import { ClsService, ClsServiceManager } from 'nestjs-cls';
import { Clock, SystemClock } from './clock';
import { SecretBox } from './crypto/secret-box';
import { type CapstanConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics';
import { RedisModule } from './redis/redis';
import { RequestContext } from './http/request-context';

/**
 * What every Capstan process is built on: validated config, logs, Postgres, Redis, metrics,
 * health endpoints, the clock and the request context (request id and caller, carried in CLS).
 */
@Module({})
export class PlatformModule {
  /** `clock` replaces the system clock (tests and demos that compress time). */
  static forRoot(config: CapstanConfig, service: string, options: { clock?: Clock } = {}): DynamicModule {
    return {
      module: PlatformModule,
      global: true,
      imports: [ConfigModule.forRoot(config), LoggingModule.forRoot(config.log, service), DatabaseModule, RedisModule, MetricsModule, HealthModule],
      providers: [
        options.clock ? { provide: Clock, useValue: options.clock } : { provide: Clock, useClass: SystemClock },
        // nestjs-cls's service without its module: ClsModule.forRoot always mounts a guard and an
        // interceptor of its own (no-ops here), and an interceptor costs every request an rxjs
        // layer. createHttpApp opens each request's context itself (request id, source IP).
        { provide: ClsService, useValue: ClsServiceManager.getClsService() },
        RequestContext,
        SecretBox,
      ],
      exports: [Clock, ClsService, RequestContext, SecretBox],
    };
  }
}
