import { billingRoutes as routes, type RouteInput } from '@capstan/contracts';
import { Endpoint, Input } from '@capstan/platform';
import { actorOf, CurrentCustomer, CurrentStaff, type CustomerCaller, type StaffCaller } from '@capstan/tenancy';
import { Controller, Headers, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { BillingReports } from './billing-reports';
import { prefersCsv, toCsv } from './exports/csv';
import { PricesService } from './prices.service';

@Controller()
export class BillingController {
  constructor(
    private readonly prices: PricesService,
    private readonly reports: BillingReports,
  ) {}

  @Endpoint(routes.listPrices)
  async listPrices(@Input() { query }: RouteInput<typeof routes.listPrices>) {
    const items = await this.prices.list(query.kind);
    return { items: items.map(({ seed_revision: _s, reason: _r, created_at: _c, ...price }) => price) };
  }

  @Endpoint(routes.getUsage)
  usage(@CurrentCustomer() caller: CustomerCaller, @Input() { query }: RouteInput<typeof routes.getUsage>) {
    return this.reports.usage(caller.organizationId, query.month);
  }
}

@Controller()
export class StaffBillingController {
  constructor(
    private readonly prices: PricesService,
    private readonly reports: BillingReports,
  ) {}

  @Endpoint(routes.adminListPrices)
  async listPrices(@Input() { query }: RouteInput<typeof routes.adminListPrices>) {
    return { items: await this.prices.list(query.kind) };
  }

  @Endpoint(routes.adminCreatePrice)
  createPrice(@CurrentStaff() staff: StaffCaller, @Input() { body }: RouteInput<typeof routes.adminCreatePrice>) {
    return this.prices.create(actorOf(staff), body);
  }

  /** JSON by default; one line item per row as CSV for `Accept: text/csv` (content negotiation, not a second route). */
  @Endpoint(routes.adminListInvoices)
  async invoices(
    @Input() { query }: RouteInput<typeof routes.adminListInvoices>,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('accept') accept?: string,
  ) {
    void reply.header('vary', 'accept');
    if (!prefersCsv(accept)) return this.reports.invoices(query.month, query.organization_id);
    const { month, csv } = await this.reports.invoicesCsv(query.month, query.organization_id);
    void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="capstan-invoices-${month}.csv"`);
    return csv;
  }

  @Endpoint(routes.adminFocusExport)
  async focus(@Input() { query }: RouteInput<typeof routes.adminFocusExport>, @Res({ passthrough: true }) reply: FastifyReply) {
    const { month, csv } = await this.reports.focus(query.month);
    void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="capstan-focus-1.0-${month}.csv"`);
    return csv;
  }

  @Endpoint(routes.adminListCredits)
  async credits(
    @Input() { query }: RouteInput<typeof routes.adminListCredits>,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('accept') accept?: string,
  ) {
    const credits = await this.reports.credits(query.month, query.organization_id);
    void reply.header('vary', 'accept');
    if (!prefersCsv(accept)) return credits;
    void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="capstan-credits-${credits.month}.csv"`);
    return toCsvOf(credits.items);
  }
}

function toCsvOf(items: Awaited<ReturnType<BillingReports['credits']>>['items']): string {
  return toCsv(routes.SLA_CREDIT_CSV_COLUMNS, items);
}
