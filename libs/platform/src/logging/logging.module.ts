import { type DynamicModule, Module } from '@nestjs/common';
import { ClsServiceManager } from 'nestjs-cls';
import type { DestinationStream } from 'pino';
import type { LogConfig } from '../config/config';
import { createRootLogger, StructuredLogger } from './structured-logger';

export { HTTP_REQUEST, REDACTED_LOG_PATHS, StructuredLogger } from './structured-logger';

/** Structured JSON logs (pino); each HTTP request's lines carry its request id (StructuredLogger). */
@Module({})
export class LoggingModule {
  /** `destination` replaces stdout (tests that read the lines). */
  static forRoot(config: LogConfig, service: string, destination?: DestinationStream): DynamicModule {
    return {
      module: LoggingModule,
      providers: [
        {
          provide: StructuredLogger,
          // The process's one ClsService, the instance PlatformModule provides.
          useFactory: () => new StructuredLogger(createRootLogger(config, service, destination), ClsServiceManager.getClsService()),
        },
      ],
      exports: [StructuredLogger],
    };
  }
}
