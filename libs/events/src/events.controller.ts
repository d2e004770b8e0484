import { eventRoutes as routes, type RouteInput } from '@capstan/contracts';
import { Endpoint, Input, withLocation } from '@capstan/platform';
import { actorOf, CurrentCustomer, type CustomerCaller } from '@capstan/tenancy';
import { Controller } from '@nestjs/common';
import { EventsService } from './events.service';
import { WebhooksService } from './webhooks/webhooks.service';

@Controller()
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Endpoint(routes.listEvents)
  list(@CurrentCustomer() caller: CustomerCaller, @Input() { query }: RouteInput<typeof routes.listEvents>) {
    return this.events.listForOrganization(caller.organizationId, { type: query.type }, query.limit, query.cursor);
  }
}

@Controller()
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Endpoint(routes.createWebhook)
  async create(@CurrentCustomer() caller: CustomerCaller, @Input() { body }: RouteInput<typeof routes.createWebhook>) {
    const webhook = await this.webhooks.create(actorOf(caller), caller.organizationId, {
      url: body.url,
      eventTypes: body.event_types,
      description: body.description,
    });
    return withLocation(webhook, `/v1/webhooks/${webhook.id}`);
  }

  @Endpoint(routes.listWebhooks)
  list(@CurrentCustomer() caller: CustomerCaller, @Input() { query }: RouteInput<typeof routes.listWebhooks>) {
    return this.webhooks.list(caller.organizationId, query.limit, query.cursor);
  }

  @Endpoint(routes.getWebhook)
  get(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.getWebhook>) {
    return this.webhooks.get(caller.organizationId, params.webhook_id);
  }

  @Endpoint(routes.deleteWebhook)
  delete(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.deleteWebhook>) {
    return this.webhooks.delete(actorOf(caller), caller.organizationId, params.webhook_id);
  }

  @Endpoint(routes.listWebhookDeliveries)
  listDeliveries(@CurrentCustomer() caller: CustomerCaller, @Input() { params, query }: RouteInput<typeof routes.listWebhookDeliveries>) {
    return this.webhooks.listDeliveries(caller.organizationId, params.webhook_id, { status: query.status }, query.limit, query.cursor);
  }
}

@Controller()
export class StaffEventsController {
  constructor(private readonly events: EventsService) {}

  @Endpoint(routes.adminListEvents)
  list(@Input() { query }: RouteInput<typeof routes.adminListEvents>) {
    return this.events.listAll({ organizationId: query.organization_id, type: query.type }, query.limit, query.cursor);
  }
}
