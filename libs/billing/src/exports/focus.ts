/**
 * The FinOps FOCUS 1.0 cost and usage dataset (FinOps Open Cost and Usage Specification,
 * version 1.0; docs/billing.md, "FOCUS export"): every column of 1.0, in the specification's
 * alphabetical order, one row per invoice line. Capstan is the provider, publisher and invoice
 * issuer; an organisation is the billing account (it has no sub-accounts, so it is its own).
 */
import { centsToUnits, type InvoiceLine } from '@capstan/domain';
import { type CsvValue, signedDecimal, toCsv } from './csv';

export const FOCUS_VERSION = '1.0';

export const FOCUS_1_0_COLUMNS = [
  'AvailabilityZone',
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'ChargeCategory',
  'ChargeClass',
  'ChargeDescription',
  'ChargeFrequency',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'CommitmentDiscountCategory',
  'CommitmentDiscountId',
  'CommitmentDiscountName',
  'CommitmentDiscountStatus',
  'CommitmentDiscountType',
  'ConsumedQuantity',
  'ConsumedUnit',
  'ContractedCost',
  'ContractedUnitPrice',
  'EffectiveCost',
  'InvoiceIssuerName',
  'ListCost',
  'ListUnitPrice',
  'PricingCategory',
  'PricingQuantity',
  'PricingUnit',
  'ProviderName',
  'PublisherName',
  'RegionId',
  'RegionName',
  'ResourceId',
  'ResourceName',
  'ResourceType',
  'ServiceCategory',
  'ServiceName',
  'SkuId',
  'SkuPriceId',
  'SubAccountId',
  'SubAccountName',
  'Tags',
] as const;

export type FocusRow = Record<(typeof FOCUS_1_0_COLUMNS)[number], CsvValue>;

const CAPSTAN = 'Capstan';
const SERVICE = 'Capstan Managed Kubernetes';

export function focusRow(line: InvoiceLine, period: { start: Date; end: Date }, organizationName: string): FocusRow {
  const usage = line.category === 'usage';
  // List, contracted and effective cost are the billed cost: Capstan has no negotiated rates,
  // commitments or amortised purchases.
  const cost = signedDecimal(centsToUnits(line.amountCents));
  return {
    AvailabilityZone: null,
    BilledCost: cost,
    BillingAccountId: line.organizationId,
    BillingAccountName: organizationName,
    BillingCurrency: line.currency,
    BillingPeriodEnd: period.end.toISOString(),
    BillingPeriodStart: period.start.toISOString(),
    ChargeCategory: usage ? 'Usage' : 'Credit',
    ChargeClass: null,
    ChargeDescription: line.description,
    ChargeFrequency: usage ? 'Usage-Based' : 'One-Time',
    ChargePeriodEnd: line.periodEnd.toISOString(),
    ChargePeriodStart: line.periodStart.toISOString(),
    CommitmentDiscountCategory: null,
    CommitmentDiscountId: null,
    CommitmentDiscountName: null,
    CommitmentDiscountStatus: null,
    CommitmentDiscountType: null,
    ConsumedQuantity: usage ? line.quantity : null,
    ConsumedUnit: usage ? line.unit : null,
    ContractedCost: cost,
    ContractedUnitPrice: usage ? line.unitPrice : null,
    EffectiveCost: cost,
    InvoiceIssuerName: CAPSTAN,
    ListCost: cost,
    ListUnitPrice: usage ? line.unitPrice : null,
    PricingCategory: usage ? 'Standard' : null,
    PricingQuantity: usage ? line.quantity : null,
    PricingUnit: usage ? line.unit : null,
    ProviderName: CAPSTAN,
    PublisherName: CAPSTAN,
    RegionId: line.region,
    RegionName: line.region,
    ResourceId: line.clusterId,
    ResourceName: line.clusterName,
    ResourceType: 'Kubernetes Cluster',
    ServiceCategory: line.kind === 'backup_storage' ? 'Storage' : 'Compute',
    ServiceName: SERVICE,
    SkuId: `${line.kind}/${line.sku}`,
    SkuPriceId: null,
    SubAccountId: line.organizationId,
    SubAccountName: organizationName,
    Tags: '{}',
  };
}

export function focusCsv(lines: readonly InvoiceLine[], period: { start: Date; end: Date }, organizationNames: ReadonlyMap<string, string>): string {
  return toCsv(
    FOCUS_1_0_COLUMNS,
    lines.map((line) => focusRow(line, period, organizationNames.get(line.organizationId) ?? line.organizationId)),
  );
}
