import type { RecordedCluster } from '@capstan/domain';

/** A cluster's SLA credit for a month, as the SLA reports state it (a percentage; the money is billing's). */
export interface SlaCreditFact {
  organizationId: string;
  clusterId: string;
  clusterName: string;
  provider: 'rke2' | 'gke';
  month: string;
  slaVersion: string;
  targetPercent: number;
  availabilityPercent: number;
  countedDowntimeMinutes: number;
  creditPercent: number;
  /** The SLA report is frozen. */
  final: boolean;
}

/**
 * The port through which billing reads what other features own (docs/architecture.md,
 * "Feature-to-feature calls"): clusters, their pools, backups and sizing operations, and the
 * month's SLA credit percentages. Features do not import each other, so the API's composition
 * root binds this to the public functions of @capstan/clusters, @capstan/operations and
 * @capstan/sla.
 */
export abstract class BillingFactsSource {
  /** Every cluster that existed at some moment of `range` (deleted ones included), of one organisation or all. */
  abstract clusters(range: { start: Date; end: Date }, organizationId?: string): Promise<RecordedCluster[]>;
  /** Every cluster owed an SLA credit for `month` (a month that has begun), of one organisation or all. */
  abstract slaCredits(month: string, organizationId?: string): Promise<SlaCreditFact[]>;
}
