import { billingRoutes, type z } from '@capstan/contracts';
import { centsToUnits, type InvoiceLine, invoiceTotals, monthRange, PriceMissingError, UnprocessableError } from '@capstan/domain';
import { Clock } from '@capstan/platform';
import { OrganizationsService } from '@capstan/tenancy';
import { Injectable, Logger } from '@nestjs/common';
import { BillingMonths, currentMonth, type MonthInvoice } from './billing-months';
import { signedDecimal, toCsv } from './exports/csv';
import { focusCsv } from './exports/focus';

type InvoiceLineView = z.infer<typeof billingRoutes.invoiceLineSchema>;
type UsageView = z.infer<typeof billingRoutes.usageSchema>;
type OrganizationInvoiceView = z.infer<typeof billingRoutes.organizationInvoiceSchema>;
type SlaCreditView = z.infer<typeof billingRoutes.slaCreditSchema>;
type InvoiceCsvRow = Record<(typeof billingRoutes.INVOICE_CSV_COLUMNS)[number], string | number | null>;

export function presentLine(line: InvoiceLine): InvoiceLineView {
  return {
    cluster_id: line.clusterId,
    cluster_name: line.clusterName,
    region: line.region,
    category: line.category,
    item: line.kind,
    sku: line.sku,
    description: line.description,
    quantity: line.quantity,
    unit: line.unit,
    unit_price: line.unitPrice,
    amount_cents: line.amountCents,
    currency: line.currency,
    charge_period_start: line.periodStart.toISOString(),
    charge_period_end: line.periodEnd.toISOString(),
  };
}

function totalsOf(lines: readonly InvoiceLine[], currency: string) {
  const t = invoiceTotals(lines);
  return { charges_cents: t.chargesCents, credits_cents: t.creditsCents, total_cents: t.totalCents, currency };
}

/** The billing answers of the API, from {@link BillingMonths}: customer usage, staff invoices and exports. */
@Injectable()
export class BillingReports {
  private readonly logger = new Logger('Billing');

  constructor(
    private readonly months: BillingMonths,
    private readonly organizations: OrganizationsService,
    private readonly clock: Clock,
  ) {}

  async usage(organizationId: string, month: string | undefined): Promise<UsageView> {
    const now = this.clock.now();
    const chosen = month ?? currentMonth(now);
    const invoice = await this.forCustomer(organizationId, this.months.invoice(chosen, organizationId, now));
    const projection = await this.forCustomer(organizationId, this.months.projection(chosen, organizationId, now));
    return {
      month: chosen,
      final: invoice.final,
      as_of: invoice.asOf.toISOString(),
      lines: invoice.lines.map(presentLine),
      ...totalsOf(invoice.lines, invoice.currency),
      projection: projection ? { charges_cents: projection.chargesCents, currency: invoice.currency, through: projection.through.toISOString() } : null,
    };
  }

  async invoices(month: string | undefined, organizationId?: string) {
    const invoice = await this.forStaff(this.months.invoice(month ?? currentMonth(this.clock.now()), organizationId));
    const invoices = await this.byOrganization(invoice);
    return {
      month: invoice.month,
      final: invoice.final,
      computed_at: invoice.computedAt.toISOString(),
      invoices,
      ...totalsOf(invoice.lines, invoice.currency),
    };
  }

  /** One line item per row, then each organisation's `total` row. */
  async invoicesCsv(month: string | undefined, organizationId?: string): Promise<{ month: string; csv: string }> {
    const invoice = await this.forStaff(this.months.invoice(month ?? currentMonth(this.clock.now()), organizationId));
    const rows: InvoiceCsvRow[] = [];
    for (const org of await this.byOrganization(invoice)) {
      const base = { organization_id: org.organization_id, organization_name: org.organization_name };
      for (const line of org.lines) {
        rows.push({
          ...base,
          cluster_id: line.cluster_id,
          cluster_name: line.cluster_name,
          category: line.category,
          item: line.item,
          sku: line.sku,
          description: line.description,
          quantity: line.quantity,
          unit: line.unit,
          unit_price: signedDecimal(line.unit_price),
          amount: signedDecimal(centsToUnits(line.amount_cents)),
          amount_cents: line.amount_cents,
          currency: line.currency,
          charge_period_start: line.charge_period_start,
          charge_period_end: line.charge_period_end,
        });
      }
      rows.push({
        ...base,
        cluster_id: null,
        cluster_name: null,
        category: 'total',
        item: null,
        sku: null,
        description: `Total for ${invoice.month}`,
        quantity: null,
        unit: null,
        unit_price: null,
        amount: signedDecimal(centsToUnits(org.total_cents)),
        amount_cents: org.total_cents,
        currency: org.currency,
        charge_period_start: monthRange(invoice.month).start.toISOString(),
        charge_period_end: monthRange(invoice.month).end.toISOString(),
      });
    }
    return { month: invoice.month, csv: toCsv<InvoiceCsvRow>(billingRoutes.INVOICE_CSV_COLUMNS, rows) };
  }

  async focus(month: string | undefined): Promise<{ month: string; csv: string }> {
    const invoice = await this.forStaff(this.months.invoice(month ?? currentMonth(this.clock.now())));
    const names = await this.organizationNames(invoice.lines);
    return { month: invoice.month, csv: focusCsv(invoice.lines, monthRange(invoice.month), names) };
  }

  async credits(month: string | undefined, organizationId?: string): Promise<{ month: string; items: SlaCreditView[] }> {
    const chosen = month ?? currentMonth(this.clock.now());
    const { invoice, credits } = await this.forStaff(this.months.credits(chosen, organizationId));
    return {
      month: chosen,
      items: credits.map((c) => ({
        organization_id: c.organizationId,
        cluster_id: c.clusterId,
        cluster_name: c.clusterName,
        provider: c.provider,
        month: c.month,
        sla_version: c.slaVersion,
        target_percent: c.targetPercent,
        availability_percent: c.availabilityPercent,
        counted_downtime_minutes: c.countedDowntimeMinutes,
        credit_percent: c.creditPercent,
        charges_cents: c.chargesCents,
        credit_amount_cents: c.creditCents,
        currency: invoice.currency,
        // Final once both the SLA report and the month's invoice are frozen.
        final: c.final && invoice.final,
      })),
    };
  }

  /**
   * A customer cannot add a price: they read that it is not configured yet and that staff know,
   * which this log line (error level, with the organisation) makes true.
   */
  private async forCustomer<T>(organizationId: string, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      if (!(error instanceof PriceMissingError)) throw error;
      this.logger.error(
        { organizationId, kind: error.usageKind, sku: error.sku, clusterId: error.clusterId, at: error.at.toISOString() },
        `customer usage cannot be priced: ${error.message}; add the price with POST /admin/v1/prices`,
      );
      throw new UnprocessableError(
        'price-missing',
        `the price of ${error.usageKind} ${error.sku} is not configured yet (from ${error.at.toISOString()}), so this usage cannot be priced; Capstan's staff have been told and will add it`,
        error.extensions,
      );
    }
  }

  /** Staff can fix it: the detail names the route that adds the price, and the cluster whose usage needs it. */
  private async forStaff<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      if (!(error instanceof PriceMissingError)) throw error;
      throw new UnprocessableError('price-missing', `${error.message}; add one with POST /admin/v1/prices`, {
        ...error.extensions,
        cluster_id: error.clusterId,
      });
    }
  }

  private async byOrganization(invoice: MonthInvoice): Promise<OrganizationInvoiceView[]> {
    const names = await this.organizationNames(invoice.lines);
    const grouped = new Map<string, InvoiceLine[]>();
    for (const line of invoice.lines) grouped.set(line.organizationId, [...(grouped.get(line.organizationId) ?? []), line]);
    return [...grouped].map(([organizationId, lines]) => ({
      organization_id: organizationId,
      organization_name: names.get(organizationId) ?? organizationId,
      lines: lines.map(presentLine),
      ...totalsOf(lines, invoice.currency),
    }));
  }

  private async organizationNames(lines: readonly InvoiceLine[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    // One read per organisation, not per line.
    for (const id of new Set(lines.map((l) => l.organizationId))) names.set(id, (await this.organizations.get(id)).display_name);
    return names;
  }
}
