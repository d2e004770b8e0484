import { Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import IORedis, { type Redis } from 'ioredis';
import { RedisConfig } from '../config/config';

/**
 * Opens ioredis connections with the settings BullMQ requires (`maxRetriesPerRequest: null`
 * for blocking connections) and closes every connection it opened on shutdown.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly opened: Redis[] = [];

  constructor(private readonly config: RedisConfig) {}

  get prefix(): string {
    return this.config.prefix;
  }

  /**
   * A connection for commands that must fail fast (health checks, rate limits): a command waits
   * for at most one reconnection attempt instead of queueing until Redis is back.
   */
  open(name: string): Redis {
    return this.track(new IORedis(this.config.url, { connectionName: `capstan:${name}`, maxRetriesPerRequest: 1, connectTimeout: 2_000 }));
  }

  /** A connection for BullMQ workers and queues, which must wait out a Redis restart. */
  openForQueues(name: string): Redis {
    return this.track(new IORedis(this.config.url, { connectionName: `capstan:${name}`, maxRetriesPerRequest: null }));
  }

  private track(connection: Redis): Redis {
    // ioredis reconnects by itself; an unhandled 'error' event would crash the process instead.
    connection.on('error', () => undefined);
    this.opened.push(connection);
    return connection;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.opened.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

@Global()
@Module({ providers: [RedisConnections], exports: [RedisConnections] })
export class RedisModule {}
