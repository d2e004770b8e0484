/**
 * The SLA's rules as versioned data (docs/sla.md, "Targets").
 *
 * Targets, the counting rule, credit tiers and alert thresholds are contract terms that change by
 * agreement, not by refactoring, so they live here as data with their sources (DOMAIN.md: "keeps it
 * as data ... never hard-coded in logic"). A report records the `version` it was computed under,
 * and a new version is appended rather than edited, so a final report can always be recomputed
 * under the terms it was issued with.
 */
import { Provider } from '../catalogue/provider';
import { NotFoundError } from '../errors/domain-error';

/** A credit owed when a month misses its target, by how far it missed. */
export interface CreditTier {
  /** The tier applies when availability is at least this (and below the target). */
  minAvailabilityPercent: number;
  /** Share of the cluster's monthly fee credited. */
  creditPercent: number;
}

export type BurnRateSeverity = 'page' | 'ticket';

/**
 * A multiwindow burn-rate alert: it fires when the error budget is being spent at more than
 * `factor` times the sustainable rate over both windows. The long window makes it significant,
 * the short one makes it stop soon after the problem does (SRE workbook, "Alerting on SLOs").
 */
export interface BurnRateRule {
  severity: BurnRateSeverity;
  /** 1 spends exactly the whole budget over `budgetPeriodDays`; 14.4 spends 2% of it in an hour. */
  factor: number;
  longWindowMinutes: number;
  shortWindowMinutes: number;
}

export interface SlaPolicy {
  /** Stored on every report (sla_reports.sla_version). */
  version: string;
  /** First calendar month (UTC, `YYYY-MM`) the policy governs. */
  effectiveFrom: string;
  source: string;
  /** Monthly availability promised, per cluster per calendar month. */
  targetPercent: Readonly<Record<Provider, number>>;
  /** Only runs of at least this many consecutive down minutes count; shorter blips are listed only. */
  minDowntimePeriodMinutes: number;
  /** Highest availability first; the first tier the availability reaches applies. */
  creditTiers: readonly Readonly<CreditTier>[];
  burnRate: Readonly<{
    /** The budget period the factors are calibrated for. */
    budgetPeriodDays: number;
    /** Most severe first. */
    rules: readonly Readonly<BurnRateRule>[];
    source: string;
  }>;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Every SLA version ever issued, oldest first. Append a new version; never edit an issued one. */
export const SLA_POLICIES: readonly SlaPolicy[] = deepFreeze([
  {
    version: '2026-11',
    effectiveFrom: '2026-11',
    source:
      'DOMAIN.md "SLA": targets per cluster per calendar month; downtime measured from /readyz probes; ' +
      'downtime periods of at least 5 consecutive minutes (a common contractual rule, e.g. the GKE SLA); ' +
      'credit tiers after the Amazon EKS and DigitalOcean Kubernetes SLAs.',
    targetPercent: { rke2: 99.5, gke: 99.95 },
    minDowntimePeriodMinutes: 5,
    creditTiers: [
      { minAvailabilityPercent: 99.0, creditPercent: 10 },
      { minAvailabilityPercent: 95.0, creditPercent: 25 },
      { minAvailabilityPercent: 0, creditPercent: 100 },
    ],
    burnRate: {
      budgetPeriodDays: 30,
      rules: [
        { severity: 'page', factor: 14.4, longWindowMinutes: 60, shortWindowMinutes: 5 },
        { severity: 'page', factor: 6, longWindowMinutes: 6 * 60, shortWindowMinutes: 30 },
        { severity: 'ticket', factor: 3, longWindowMinutes: 24 * 60, shortWindowMinutes: 2 * 60 },
        { severity: 'ticket', factor: 1, longWindowMinutes: 3 * 24 * 60, shortWindowMinutes: 6 * 60 },
      ],
      source: 'Google SRE workbook, "Alerting on SLOs", multiwindow multi-burn-rate alerts for a 30-day budget.',
    },
  },
] satisfies SlaPolicy[]);

/** The newest policy: what new reports and alerts use unless a month says otherwise. */
export function currentSlaPolicy(): SlaPolicy {
  return SLA_POLICIES[SLA_POLICIES.length - 1];
}

/**
 * The policy governing a calendar month (`YYYY-MM`): the newest one in effect from that month or
 * earlier. Months before the first policy fall under the first one, since there were no other terms.
 */
export function slaPolicyForMonth(month: string, policies: readonly SlaPolicy[] = SLA_POLICIES): SlaPolicy {
  let governing = policies[0];
  for (const policy of policies) if (policy.effectiveFrom <= month) governing = policy;
  return governing;
}

/** A policy by its version, e.g. to recompute a stored report under the terms it was issued with. */
export function slaPolicyByVersion(version: string, policies: readonly SlaPolicy[] = SLA_POLICIES): SlaPolicy {
  const policy = policies.find((p) => p.version === version);
  if (!policy) throw new NotFoundError('SLA policy', version);
  return policy;
}
