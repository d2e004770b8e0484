import { type RouteInput, slaRoutes as routes } from '@capstan/contracts';
import { Endpoint, Input } from '@capstan/platform';
import { CurrentCustomer, type CustomerCaller } from '@capstan/tenancy';
import { Controller, Headers, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { prefersCsv, toCsv } from './csv';
import { presentCredit, presentReport, presentSummary } from './sla-report-view';
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

  /** JSON by default; the same rows as CSV for `Accept: text/csv` (content negotiation, not a second route). */
  @Endpoint(routes.adminListCredits)
  async credits(
    @Input() { query }: RouteInput<typeof routes.adminListCredits>,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('accept') accept?: string,
  ) {
    const credits = await this.sla.credits(query.month);
    const items = credits.items.map(presentCredit);
    void reply.header('vary', 'accept');
    if (!prefersCsv(accept)) return { month: credits.month, items };
    void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="capstan-credits-${credits.month}.csv"`);
    return toCsv(routes.SLA_CREDIT_CSV_COLUMNS, items);
  }
}
