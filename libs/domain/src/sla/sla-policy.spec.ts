import { NotFoundError } from '../errors/domain-error';
import { percentToPpm } from './parts-per-million';
import { currentSlaPolicy, SLA_POLICIES, SlaPolicy, slaPolicyByVersion, slaPolicyForMonth } from './sla-policy';
import { SLA_TARGET_PERCENT } from './sla-tier';

describe('SLA policies as versioned data', () => {
  it('holds version 2026-11 with the terms of DOMAIN.md "SLA"', () => {
    // Given the shipped policies, when version 2026-11 is looked up
    const policy = slaPolicyByVersion('2026-11');

    // Then it carries the targets, the 5-minute rule, the credit tiers and the burn-rate rules
    expect(policy.targetPercent).toEqual({ rke2: 99.5, gke: 99.95 });
    expect(policy.minDowntimePeriodMinutes).toBe(5);
    expect(policy.creditTiers).toEqual([
      { minAvailabilityPercent: 99.0, creditPercent: 10 },
      { minAvailabilityPercent: 95.0, creditPercent: 25 },
      { minAvailabilityPercent: 0, creditPercent: 100 },
    ]);
    expect(policy.burnRate.budgetPeriodDays).toBe(30);
    expect(policy.burnRate.rules).toEqual([
      { severity: 'page', factor: 14.4, longWindowMinutes: 60, shortWindowMinutes: 5 },
      { severity: 'page', factor: 6, longWindowMinutes: 360, shortWindowMinutes: 30 },
      { severity: 'ticket', factor: 3, longWindowMinutes: 1440, shortWindowMinutes: 120 },
      { severity: 'ticket', factor: 1, longWindowMinutes: 4320, shortWindowMinutes: 360 },
    ]);
    expect(policy.source).toMatch(/DOMAIN\.md/);
    expect(policy.burnRate.source).toMatch(/SRE workbook/);
  });

  it('agrees with the per-provider targets the rest of Capstan shows', () => {
    expect(currentSlaPolicy().targetPercent).toEqual(SLA_TARGET_PERCENT);
  });

  it.each(SLA_POLICIES.map((p) => [p.version, p] as const))('keeps policy %s well formed', (_version, policy) => {
    // every percentage is exact in parts per million, so comparisons at the boundary are exact
    for (const percent of [...Object.values(policy.targetPercent), ...policy.creditTiers.map((t) => t.minAvailabilityPercent)]) {
      expect(() => percentToPpm(percent)).not.toThrow();
    }
    // tiers run from the highest availability down and the last catches everything below
    const minimums = policy.creditTiers.map((t) => t.minAvailabilityPercent);
    expect([...minimums].sort((a, b) => b - a)).toEqual(minimums);
    expect(minimums[minimums.length - 1]).toBe(0);
    for (const target of Object.values(policy.targetPercent)) expect(minimums[0]).toBeLessThan(target);
    // pages come before tickets; each short window is shorter than its long one
    const severities = policy.burnRate.rules.map((r) => r.severity);
    const firstTicket = severities.indexOf('ticket');
    if (firstTicket >= 0) expect(severities.slice(firstTicket)).not.toContain('page');
    for (const rule of policy.burnRate.rules) expect(rule.shortWindowMinutes).toBeLessThan(rule.longWindowMinutes);
    expect(policy.effectiveFrom).toMatch(/^\d{4}-(0[1-9]|1[0-2])$/);
  });

  it('lists versions oldest first, each once', () => {
    const versions = SLA_POLICIES.map((p) => p.effectiveFrom);
    expect([...versions].sort()).toEqual(versions);
    expect(new Set(SLA_POLICIES.map((p) => p.version)).size).toBe(SLA_POLICIES.length);
  });

  it('calibrates each burn-rate rule to the share of a 30-day budget the SRE workbook names', () => {
    // Given a 30-day budget, when a rule's factor is sustained over its long window,
    // then it spends 2% (1h page), 5% (6h page), 10% (1d ticket) and 10% (3d ticket) of the budget
    const budgetMinutes = currentSlaPolicy().burnRate.budgetPeriodDays * 1440;
    const shares = currentSlaPolicy().burnRate.rules.map((r) => Math.round(((r.factor * r.longWindowMinutes) / budgetMinutes) * 1000) / 10);
    expect(shares).toEqual([2, 5, 10, 10]);
  });

  it('is frozen to the leaves, so no caller can change the terms for everyone', () => {
    const policy = currentSlaPolicy() as { -readonly [K in keyof SlaPolicy]: SlaPolicy[K] };
    expect(Object.isFrozen(SLA_POLICIES)).toBe(true);
    expect(() => {
      policy.minDowntimePeriodMinutes = 1;
    }).toThrow(TypeError);
    expect(Object.isFrozen(policy.creditTiers[0])).toBe(true);
    expect(Object.isFrozen(policy.burnRate.rules[0])).toBe(true);
    expect(Object.isFrozen(policy.targetPercent)).toBe(true);
  });

  describe('choosing the policy for a month', () => {
    const base = SLA_POLICIES[0];
    const policies: SlaPolicy[] = [
      { ...base, version: 'v1', effectiveFrom: '2026-11' },
      { ...base, version: 'v2', effectiveFrom: '2027-03', targetPercent: { rke2: 99.9, gke: 99.95 } },
    ];

    it('uses the newest policy in effect from that month or earlier', () => {
      expect(slaPolicyForMonth('2026-11', policies).version).toBe('v1');
      expect(slaPolicyForMonth('2027-02', policies).version).toBe('v1');
      expect(slaPolicyForMonth('2027-03', policies).version).toBe('v2');
      expect(slaPolicyForMonth('2030-01', policies).version).toBe('v2');
    });

    it('puts months before the first policy under the first one', () => {
      expect(slaPolicyForMonth('2025-01', policies).version).toBe('v1');
      expect(slaPolicyForMonth('2026-03').version).toBe('2026-11');
    });

    it('treats the newest policy as current', () => {
      expect(currentSlaPolicy()).toBe(SLA_POLICIES[SLA_POLICIES.length - 1]);
    });

    it('refuses an unknown version as not found', () => {
      expect(() => slaPolicyByVersion('1999-01')).toThrow(NotFoundError);
    });
  });
});
