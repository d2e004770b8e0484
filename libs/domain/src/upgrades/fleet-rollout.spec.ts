import fc from 'fast-check';
import type { VersionCatalogueEntry } from '../catalogue/kubernetes-versions';
import { type MaintenanceWindowSpec, windowGate, type WindowDay } from '../maintenance/maintenance-window';
import { compareComponentVersions, findingsFor, SEEDED_ADVISORIES, versionAffected } from './advisories';
import {
  DEFAULT_FLEET_POLICY,
  evaluateWave,
  exclusionCovers,
  type FleetCluster,
  isProductionCluster,
  planRollout,
  upgradeNeed,
  type UpgradeNeed,
} from './fleet-rollout';
import type { ExclusionScope } from './upgrade-planner';

const NOW = new Date('2026-12-04T12:00:00Z');
const src = { releasedAt: 't', maintenanceAt: 't', endOfSupportAt: 't', latestPatch: 't' };
const entry = (minor: string, latestPatch: string, endOfSupportAt: string, maintenanceAt: string | null = null): VersionCatalogueEntry => ({
  provider: 'rke2',
  minor,
  latestPatch,
  releasedAt: '2025-01-01',
  maintenanceAt,
  standardSupportEndsAt: null,
  endOfSupportAt,
  sources: src,
});
/** 1.33 is EOL on NOW, 1.34 ends in 20 days, 1.35 and 1.36 are supported, 1.37 a preview. */
const CATALOGUE: VersionCatalogueEntry[] = [
  entry('1.33', '1.33.9', '2026-06-28'),
  entry('1.34', '1.34.8', '2026-12-24'),
  entry('1.35', '1.35.5', '2027-02-28'),
  entry('1.36', '1.36.4', '2027-06-28'),
  { ...entry('1.37', '1.37.1', '2027-10-28'), preview: true },
];

describe('upgradeNeed', () => {
  const need = (version: string, autoUpgrade = true) => upgradeNeed({ provider: 'rke2', controlPlaneVersion: version, autoUpgrade }, CATALOGUE, NOW);

  it('moves an end-of-life version to the next minor, even without the customer’s consent to auto-upgrades', () => {
    expect(need('1.33.2', false)).toMatchObject({ reason: 'end_of_life', target: '1.34.8', minor: true });
  });

  it('moves a minor whose end of support is near to the next minor', () => {
    expect(need('1.34.8')).toMatchObject({ reason: 'end_of_support_near', target: '1.35.5', minor: true });
  });

  it('offers a newer patch of the same minor, and nothing for a cluster at the latest patch', () => {
    expect(need('1.35.1')).toMatchObject({ reason: 'patch', target: '1.35.5', minor: false });
    expect(need('1.35.5')).toBeNull();
  });

  it('never moves a cluster into a preview, and respects a customer who turned auto-upgrades off', () => {
    expect(need('1.36.4')).toBeNull();
    expect(need('1.35.1', false)).toBeNull();
  });
});

describe('windowGate', () => {
  const window: MaintenanceWindowSpec = { timeZone: 'Europe/Zurich', days: ['SA'], startTime: '22:00', durationMinutes: 240 };

  it('opens inside an occurrence with enough left, and otherwise waits for the next one', () => {
    // Saturday 2026-12-05 22:00 in Zurich is 21:00 UTC
    expect(windowGate(window, new Date('2026-12-05T21:30:00Z'), 30 * 60_000)).toEqual({ open: true, endsAt: new Date('2026-12-06T01:00:00Z') });
    // 10 minutes before the end: too late to start a pool's rollout
    expect(windowGate(window, new Date('2026-12-06T00:50:00Z'), 30 * 60_000)).toEqual({ open: false, opensAt: new Date('2026-12-12T21:00:00Z') });
    expect(windowGate(window, NOW, 30 * 60_000)).toEqual({ open: false, opensAt: new Date('2026-12-05T21:00:00Z') });
  });
});

describe('exclusionCovers', () => {
  it('lets a patch through no_minor_upgrades only', () => {
    expect(exclusionCovers('no_minor_upgrades', { minor: false })).toBe(false);
    expect(exclusionCovers('no_minor_upgrades', { minor: true })).toBe(true);
    expect(exclusionCovers('no_minor_or_node_upgrades', { minor: false })).toBe(true);
    expect(exclusionCovers('no_upgrades', { minor: false })).toBe(true);
  });
});

describe('planRollout: a fleet of 500 clusters', () => {
  const ZONES = ['Europe/Zurich', 'America/New_York', 'Asia/Tokyo', 'UTC', 'Australia/Sydney'];
  const DAYS: WindowDay[] = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
  const VERSIONS = ['1.33.2', '1.34.1', '1.34.8', '1.35.0', '1.35.5', '1.36.1'];
  const SCOPES: ExclusionScope[] = ['no_upgrades', 'no_minor_upgrades', 'no_minor_or_node_upgrades'];

  /** A deterministic, varied fleet: versions, environments, windows across zones, exclusions. */
  function fleet(seed: number): FleetCluster[] {
    // mulberry32: a small PRNG whose low bits are as random as its high ones
    let s = seed >>> 0;
    const rnd = (n: number) => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * n);
    };
    return Array.from({ length: 500 }, (_, i) => {
      const days = [...new Set([DAYS[rnd(7)]!, DAYS[rnd(7)]!])];
      const exclusions = Array.from({ length: rnd(3) }, () => {
        const start = NOW.getTime() + rnd(40) * 86_400_000 + rnd(24) * 3_600_000;
        return { startsAt: new Date(start), endsAt: new Date(start + (1 + rnd(14)) * 86_400_000), scope: SCOPES[rnd(3)]! };
      });
      return {
        id: `cl_${String(i).padStart(4, '0')}`,
        organizationId: `org_${rnd(20)}`,
        provider: 'rke2',
        controlPlaneVersion: VERSIONS[rnd(VERSIONS.length)]!,
        autoUpgrade: rnd(10) !== 0,
        labels: ([{ environment: 'production' }, { environment: 'staging' }, { environment: 'dev' }, {}] as Record<string, string>[])[rnd(4)]!,
        window:
          rnd(25) === 0
            ? null
            : {
                timeZone: ZONES[rnd(ZONES.length)]!,
                days,
                startTime: `${String(rnd(24)).padStart(2, '0')}:${rnd(2) ? '30' : '00'}`,
                durationMinutes: 240 + 60 * rnd(4),
              },
        exclusions,
      };
    });
  }

  it('puts every plan inside its window, none in an exclusion that covers it, non-production first', () => {
    const clusters = fleet(7);
    const needing = clusters.flatMap((c) => {
      const need = upgradeNeed(c, CATALOGUE, NOW);
      return need ? [{ ...c, need }] : [];
    });
    expect(needing.length).toBeGreaterThan(300);
    const plan = planRollout(needing, NOW);
    const planned = plan.waves.flatMap((w) => w.clusters.map((c) => ({ ...c, wave: w })));
    // every cluster that needs an upgrade is planned or says why not
    expect(planned.length + plan.unplanned.length).toBe(needing.length);
    expect(plan.unplanned.every((u) => u.reason.length > 0)).toBe(true);
    const byId = new Map(clusters.map((c) => [c.id, c]));
    for (const p of planned) {
      const c = byId.get(p.clusterId)!;
      // inside its window: the slot is one of the window's own occurrences (start and length)
      expect(p.slot.endsAt.getTime() - p.slot.startsAt.getTime()).toBe(c.window!.durationMinutes * 60_000);
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: c.window!.timeZone,
        hour: '2-digit',
        minute: '2-digit',
        weekday: 'short',
        hourCycle: 'h23',
      }).formatToParts(p.slot.startsAt);
      const hhmm = `${local.find((x) => x.type === 'hour')!.value}:${local.find((x) => x.type === 'minute')!.value}`;
      const day = local
        .find((x) => x.type === 'weekday')!
        .value.slice(0, 2)
        .toUpperCase();
      expect(c.window!.days).toContain(day as WindowDay);
      expect(hhmm).toBe(c.window!.startTime);
      // announced ahead, never in an exclusion that covers the work
      expect(p.slot.startsAt.getTime()).toBeGreaterThanOrEqual(NOW.getTime() + DEFAULT_FLEET_POLICY.announceLeadMs);
      for (const e of c.exclusions) {
        if (exclusionCovers(e.scope, p.need)) expect(e.startsAt < p.slot.endsAt && p.slot.startsAt < e.endsAt).toBe(false);
      }
    }
    // non-production first: every production slot starts after every non-production one has ended (plus the soak)
    const nonProd = planned.filter((p) => p.wave.tier === 'non_production');
    const prod = planned.filter((p) => p.wave.tier === 'production');
    expect(nonProd.length).toBeGreaterThan(50);
    expect(prod.length).toBeGreaterThan(50);
    const lastNonProdEnd = Math.max(...nonProd.map((p) => p.slot.endsAt.getTime()));
    expect(Math.min(...prod.map((p) => p.slot.startsAt.getTime()))).toBeGreaterThanOrEqual(lastNonProdEnd + DEFAULT_FLEET_POLICY.soakMs);
    expect(plan.waves[0]!.tier).toBe('non_production');
    expect(nonProd.every((p) => !isProductionCluster(byId.get(p.clusterId)!.labels))).toBe(true);
    // unlabelled clusters count as production
    expect(prod.some((p) => byId.get(p.clusterId)!.labels.environment === undefined)).toBe(true);
  });

  it('holds for any wave size: waves in order, each after the previous wave’s windows', () => {
    const base = fleet(11).slice(0, 120);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), (maxWaveSize) => {
        const needing = base.flatMap((c) => {
          const need = upgradeNeed(c, CATALOGUE, NOW);
          return need ? [{ ...c, need }] : [];
        });
        const plan = planRollout(needing, NOW, { ...DEFAULT_FLEET_POLICY, maxWaveSize, horizonDays: 400 });
        for (let i = 1; i < plan.waves.length; i++) {
          const prevEnd = Math.max(...plan.waves[i - 1]!.clusters.map((c) => c.slot.endsAt.getTime()));
          expect(Math.min(...plan.waves[i]!.clusters.map((c) => c.slot.startsAt.getTime()))).toBeGreaterThanOrEqual(prevEnd);
          expect(plan.waves[i]!.clusters.length).toBeLessThanOrEqual(maxWaveSize);
        }
        const tiers = plan.waves.map((w) => w.tier);
        expect(tiers.lastIndexOf('non_production')).toBeLessThan(tiers.indexOf('production') === -1 ? Infinity : tiers.indexOf('production') + 1);
      }),
      { numRuns: 20 },
    );
  });

  it('skips a window occurrence that an exclusion overlaps and takes the next one', () => {
    const need: UpgradeNeed = { reason: 'patch', target: '1.35.5', minor: false, detail: '' };
    const c: FleetCluster & { need: UpgradeNeed } = {
      id: 'cl_x',
      organizationId: 'org_x',
      provider: 'rke2',
      controlPlaneVersion: '1.35.1',
      autoUpgrade: true,
      labels: { environment: 'dev' },
      window: { timeZone: 'UTC', days: ['SA'], startTime: '02:00', durationMinutes: 240 },
      exclusions: [{ startsAt: new Date('2026-12-12T00:00:00Z'), endsAt: new Date('2026-12-13T00:00:00Z'), scope: 'no_upgrades' }],
      need,
    };
    const plan = planRollout([c], NOW);
    // 2026-12-05 is inside the 48 h announcement lead, 2026-12-12 is excluded
    expect(plan.waves[0]!.clusters[0]!.slot.startsAt).toEqual(new Date('2026-12-19T02:00:00Z'));
    // a no_minor_upgrades exclusion does not hold back a patch
    const patchOnly = planRollout([{ ...c, exclusions: [{ ...c.exclusions[0]!, scope: 'no_minor_upgrades' }] }], NOW);
    expect(patchOnly.waves[0]!.clusters[0]!.slot.startsAt).toEqual(new Date('2026-12-12T02:00:00Z'));
  });
});

describe('evaluateWave', () => {
  const o = (state: 'planned' | 'running' | 'succeeded' | 'failed' | 'skipped', downSinceUpgrade = false) => ({
    clusterId: `cl_${state}`,
    state,
    downSinceUpgrade,
  });

  it('halts as soon as the unhealthy share exceeds the threshold, naming why', () => {
    const verdict = evaluateWave([o('failed'), o('running'), o('planned'), o('succeeded')], 0.1);
    expect(verdict.verdict).toBe('halt');
    expect(verdict.verdict === 'halt' && verdict.reason).toContain('1 upgrade(s) failed');
  });

  it('counts downtime after a successful upgrade as unhealthy', () => {
    const verdict = evaluateWave([o('succeeded', true), o('succeeded'), o('succeeded')], 0.1);
    expect(verdict).toMatchObject({ verdict: 'halt', unhealthy: 1 });
  });

  it('is healthy only when every cluster is done within the threshold', () => {
    expect(evaluateWave([o('succeeded'), o('running')], 0.1).verdict).toBe('in_progress');
    expect(evaluateWave([o('succeeded'), o('succeeded'), o('skipped')], 0.1).verdict).toBe('healthy');
    const many = [...Array.from({ length: 19 }, () => o('succeeded')), o('failed')];
    expect(evaluateWave(many, 0.1).verdict).toBe('healthy');
  });
});

describe('advisories', () => {
  const cve = SEEDED_ADVISORIES.find((a) => a.id === 'CVE-2025-1974')!;

  it('flags ingress-nginx below 1.11.5 and 1.12.0, and not the fixed releases', () => {
    for (const v of ['1.9.6', '1.11.4', 'v1.12.0', '1.12.0-beta.0']) expect(versionAffected(v, cve.affected)).toBe(true);
    for (const v of ['1.11.5', '1.12.1', '1.13.0']) expect(versionAffected(v, cve.affected)).toBe(false);
  });

  it('flags every ingress-nginx as retired, and nothing else', () => {
    const findings = findingsFor(
      [
        { name: 'ingress-nginx', version: '1.12.1' },
        { name: 'haproxy-ingress', version: '3.2.1' },
      ],
      SEEDED_ADVISORIES,
    );
    expect(findings.map((f) => f.advisoryId)).toEqual(['RETIRED-ingress-nginx']);
  });

  it('orders versions numerically', () => {
    expect(compareComponentVersions('1.10.0', '1.9.9')).toBeGreaterThan(0);
    expect(compareComponentVersions('v1.12', '1.12.0')).toBe(0);
  });
});
