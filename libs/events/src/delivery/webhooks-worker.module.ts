import { WebhookConfig } from '@capstan/platform';
import { Logger, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EventRetention } from '../retention/event-retention';
import { WebhookSecrets } from '../webhooks/webhook-secrets';

/** How often old events and deliveries are pruned (EVENT_RETENTION_DAYS). */
const PRUNE_INTERVAL_MS = 3_600_000;
import { WebhookDeliverer, WebhookDeliverySettings } from './webhook-deliverer';

/**
 * Runs webhook delivery in a worker process: polls for due deliveries every second and, in
 * between, refills a slot as soon as an attempt finishes. Prunes old events hourly. Several replicas can run it at once
 * (claims skip each other's locked rows). Needs the PlatformModule (Postgres, SecretBox, Clock).
 */
@Module({
  providers: [
    WebhookSecrets,
    WebhookDeliverer,
    EventRetention,
    {
      provide: WebhookDeliverySettings,
      inject: [WebhookConfig],
      useFactory: (config: WebhookConfig) => {
        const defaults = new WebhookDeliverySettings();
        return new WebhookDeliverySettings(
          defaults.concurrency,
          defaults.perOrganization,
          defaults.timeoutMs,
          defaults.pollIntervalMs,
          defaults.leaseMs,
          config.allowPrivateNetworks,
        );
      },
    },
  ],
  exports: [WebhookDeliverer],
})
export class WebhooksWorkerModule implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WebhooksWorker');
  private timer: NodeJS.Timeout | undefined;
  private pruning: NodeJS.Timeout | undefined;

  constructor(
    private readonly deliverer: WebhookDeliverer,
    private readonly settings: WebhookDeliverySettings,
    private readonly retention: EventRetention,
  ) {}

  onApplicationBootstrap(): void {
    this.deliverer.keepSlotsFull();
    this.timer = setInterval(() => {
      this.deliverer.dispatch().catch((error: unknown) => this.logger.error(`claiming webhook deliveries failed: ${String(error)}`));
    }, this.settings.pollIntervalMs);
    // Timers alone must not keep a process alive that is otherwise shutting down.
    this.timer.unref();
    this.pruning = setInterval(() => {
      this.retention.prune().catch((error: unknown) => this.logger.warn(`pruning old events failed: ${String(error)}`));
    }, PRUNE_INTERVAL_MS);
    this.pruning.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.pruning) clearInterval(this.pruning);
    this.timer = undefined;
    await this.deliverer.drain();
  }

  /** Delivers everything due now and waits for the attempts to finish; resolves with their number. */
  deliverDue(): Promise<number> {
    return this.deliverer.deliverDue();
  }
}
