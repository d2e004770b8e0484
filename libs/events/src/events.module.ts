import { TenancyModule } from '@capstan/tenancy';
import { Module } from '@nestjs/common';
import { EventsController, StaffEventsController, WebhooksController } from './events.controller';
import { EventsService } from './events.service';
import { WebhookSecrets } from './webhooks/webhook-secrets';
import { WebhooksService } from './webhooks/webhooks.service';

/**
 * Just `EventsService.record`, for code that reports events from any process (the operations
 * engine in the worker): no controllers, nothing but the PlatformModule needed.
 */
@Module({
  providers: [EventsService],
  exports: [EventsService],
})
export class EventRecordingModule {}

/** The HTTP side: the event log and webhook management, for the API process. */
@Module({
  imports: [TenancyModule, EventRecordingModule],
  controllers: [EventsController, WebhooksController, StaffEventsController],
  providers: [WebhookSecrets, WebhooksService],
  exports: [EventRecordingModule, WebhooksService],
})
export class EventsModule {}
