import { clusterRoutes as routes, type RouteInput } from '@capstan/contracts';
import { Endpoint, Input } from '@capstan/platform';
import { actorOf, CurrentCustomer, CurrentStaff, type CustomerCaller, type StaffCaller } from '@capstan/tenancy';
import { Controller } from '@nestjs/common';
import { OperationsService } from './operations.service';
import { OrphansService } from './orphans.service';

@Controller()
export class OperationsController {
  constructor(private readonly operations: OperationsService) {}

  @Endpoint(routes.listOperations)
  async list(@CurrentCustomer() caller: CustomerCaller, @Input() { query }: RouteInput<typeof routes.listOperations>) {
    const page = await this.operations.list(
      { organizationId: caller.organizationId, clusterId: query.cluster_id, status: query.status, type: query.type },
      query.limit,
      query.cursor,
    );
    return { ...page, items: page.items.map(({ organization_id: _, ...op }) => op) };
  }

  @Endpoint(routes.getOperation)
  async get(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.getOperation>) {
    const { organization_id: _, ...op } = await this.operations.get(caller.organizationId, params.operation_id);
    return op;
  }

  @Endpoint(routes.cancelOperation)
  cancel(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.cancelOperation>) {
    return this.operations.cancel(actorOf(caller), caller.organizationId, params.operation_id);
  }

  @Endpoint(routes.resumeOperation)
  resume(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.resumeOperation>) {
    return this.operations.resume(actorOf(caller), caller.organizationId, params.operation_id);
  }
}

@Controller()
export class StaffOperationsController {
  constructor(private readonly operations: OperationsService) {}

  @Endpoint(routes.adminListOperations)
  list(@Input() { query }: RouteInput<typeof routes.adminListOperations>) {
    return this.operations.list(
      { organizationId: query.organization_id, clusterId: query.cluster_id, status: query.status, type: query.type, createdBefore: query.created_before },
      query.limit,
      query.cursor,
    );
  }

  @Endpoint(routes.adminRetryOperation)
  retry(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.adminRetryOperation>) {
    return this.operations.retry(actorOf(staff), params.operation_id, body.reason);
  }

  @Endpoint(routes.adminCancelOperation)
  cancel(@CurrentStaff() staff: StaffCaller, @Input() { params, body }: RouteInput<typeof routes.adminCancelOperation>) {
    return this.operations.cancel(actorOf(staff), undefined, params.operation_id, body.reason);
  }
}

@Controller()
export class StaffOrphansController {
  constructor(private readonly orphans: OrphansService) {}

  @Endpoint(routes.adminListOrphans)
  list(@Input() { query }: RouteInput<typeof routes.adminListOrphans>) {
    return this.orphans.list(
      { status: query.status, organizationId: query.organization_id, clusterId: query.cluster_id, operationId: query.operation_id },
      query.limit,
      query.cursor,
    );
  }
}
