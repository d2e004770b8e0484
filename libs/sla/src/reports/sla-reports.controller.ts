import { type RouteInput, slaRoutes as routes } from '@capstan/contracts';
import { Endpoint, Input } from '@capstan/platform';
import { CurrentCustomer, type CustomerCaller } from '@capstan/tenancy';
import { Controller } from '@nestjs/common';
import { presentReport, presentSummary } from './sla-report-view';
import { SlaReportsService } from './sla-reports.service';

@Controller()
export class SlaReportsController {
  constructor(private readonly sla: SlaReportsService) {}

  @Endpoint(routes.getClusterSla)
  async get(@CurrentCustomer() caller: CustomerCaller, @Input() { params, query }: RouteInput<typeof routes.getClusterSla>) {
    return presentReport(await this.sla.customerReport(caller.organizationId, params.cluster_id, query.month));
  }

  @Endpoint(routes.listSla)
  async list(@CurrentCustomer() caller: CustomerCaller, @Input() { query }: RouteInput<typeof routes.listSla>) {
    const { page } = await this.sla.page({ organizationId: caller.organizationId }, query.month, query.limit, query.cursor);
    return { items: page.items.map(presentSummary), next_cursor: page.next_cursor };
  }
}

@Controller()
export class StaffSlaReportsController {
  constructor(private readonly sla: SlaReportsService) {}

  @Endpoint(routes.adminListSlaBreaches)
  async breaches(@Input() { query }: RouteInput<typeof routes.adminListSlaBreaches>) {
    const page = await this.sla.breaches({ organizationId: query.organization_id }, query.month, query.limit, query.cursor);
    return { items: page.items.map((r) => ({ ...presentSummary(r), organization_id: r.cluster.organizationId })), next_cursor: page.next_cursor };
  }

  @Endpoint(routes.adminListSlaAlerts)
  async alerts(@Input() { query }: RouteInput<typeof routes.adminListSlaAlerts>) {
    const burning = await this.sla.burning({ organizationId: query.organization_id });
    return {
      items: burning.map((r) => ({
        ...presentSummary(r),
        organization_id: r.cluster.organizationId,
        alert: { severity: r.alert.severity, firing_since: r.alert.firingSince.toISOString() },
      })),
    };
  }
}
