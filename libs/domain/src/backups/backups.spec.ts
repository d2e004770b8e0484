import fc from 'fast-check';
import { caught, validationError } from '../test/thrown';
import { dueRun, isBackupStale, longestInterval, nextOccurrence, nextOccurrences, validateBackupCron } from './backup-schedule';
import { assertWorkloadBackupTool, backupKindFor, lostWithCluster } from './backup-kinds';
import { assertRestoreAllowed, type RestorableBackup, type RestoreTarget } from './restore-rules';
import { backupsToPrune, expiryOf, type RetainedBackup } from './retention';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (d: Date | null) => d?.toISOString() ?? null;
const zurichClock = (d: Date) =>
  new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Zurich', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);

describe('backup schedules', () => {
  it("fires RKE2's default schedule every 12 hours in UTC", () => {
    const spec = validateBackupCron({ cron: '0  */12 * * *', timeZone: 'UTC' });
    expect(spec.cron).toBe('0 */12 * * *');
    expect(nextOccurrences(spec, new Date('2026-01-01T05:00:00Z'), 3).map(iso)).toEqual([
      '2026-01-01T12:00:00.000Z',
      '2026-01-02T00:00:00.000Z',
      '2026-01-02T12:00:00.000Z',
    ]);
  });

  it('reads the cron in the schedule zone: 01:00 Zurich is 00:00 UTC in winter and 23:00 UTC the day before in summer', () => {
    const spec = { cron: '0 1 * * *', timeZone: 'Europe/Zurich' };
    expect(iso(nextOccurrence(spec, new Date('2026-01-10T12:00:00Z')))).toBe('2026-01-11T00:00:00.000Z');
    expect(iso(nextOccurrence(spec, new Date('2026-07-10T12:00:00Z')))).toBe('2026-07-10T23:00:00.000Z');
  });

  it('across the spring-forward night in Zurich, 02:30 (which does not exist) fires once, right after the gap', () => {
    const spec = { cron: '30 2 * * *', timeZone: 'Europe/Zurich' };
    const runs = nextOccurrences(spec, new Date('2026-03-28T00:00:00Z'), 3);
    // 28 March 02:30 CET, 29 March 03:00 CEST (the first instant after the gap), 30 March 02:30 CEST
    expect(runs.map(iso)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    expect(runs.map(zurichClock)).toEqual(['02:30', '03:00', '02:30']);
  });

  it('across the fall-back night in Zurich, 02:30 (which happens twice) fires once, 25 hours after the day before', () => {
    const spec = { cron: '30 2 * * *', timeZone: 'Europe/Zurich' };
    const runs = nextOccurrences(spec, new Date('2026-10-24T00:00:00Z'), 3);
    expect(runs.map(iso)).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    expect(runs.map(zurichClock)).toEqual(['02:30', '02:30', '02:30']);
    expect(runs[2]!.getTime() - runs[1]!.getTime()).toBe(25 * HOUR);
  });

  it('an hourly schedule in Zurich has 23 windows on the spring-forward day and 25 on the fall-back day, never a doubled one', () => {
    const hourly = { cron: '0 * * * *', timeZone: 'Europe/Zurich' };
    const day = (startUtc: string, endUtc: string) =>
      nextOccurrences(hourly, new Date(new Date(startUtc).getTime() - 1), 30).filter((d) => d.getTime() < new Date(endUtc).getTime());
    const spring = day('2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z');
    const autumn = day('2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z');
    expect(spring).toHaveLength(23);
    expect(autumn).toHaveLength(25);
    expect(new Set(autumn.map(iso)).size).toBe(25);
  });

  it('refuses a cron that is not five fields, a bad field and a zone IANA does not know, naming the field', () => {
    expect(validationError(() => validateBackupCron({ cron: '0 0 0 * * *', timeZone: 'UTC' })).violations[0]).toMatchObject({ field: 'cron' });
    expect(validationError(() => validateBackupCron({ cron: '61 * * * *', timeZone: 'UTC' })).violations[0]).toMatchObject({ field: 'cron' });
    expect(validationError(() => validateBackupCron({ cron: '0 0 * * *', timeZone: 'Mars/Olympus' })).violations[0]).toMatchObject({ field: 'time_zone' });
    expect(validationError(() => validateBackupCron({ cron: '0 0 * * *', timeZone: 'CET' })).violations[0]).toMatchObject({ field: 'time_zone' });
  });

  describe('missed runs', () => {
    const every6h = { cron: '0 */6 * * *', timeZone: 'UTC' };

    it('nothing is due before the next window, and the window is due at its very instant', () => {
      const last = new Date('2026-01-01T06:00:00Z');
      expect(dueRun(every6h, last, new Date('2026-01-01T11:59:59.999Z'))).toEqual({ window: null, skipped: 0, next: new Date('2026-01-01T12:00:00Z') });
      expect(dueRun(every6h, last, new Date('2026-01-01T12:00:00Z'))).toEqual({
        window: new Date('2026-01-01T12:00:00Z'),
        skipped: 0,
        next: new Date('2026-01-01T18:00:00Z'),
      });
    });

    it('a scheduler down for two days runs the missed windows once, for the latest of them, not eight times', () => {
      const r = dueRun(every6h, new Date('2026-01-01T06:00:00Z'), new Date('2026-01-03T07:30:00Z'));
      expect(r).toEqual({ window: new Date('2026-01-03T06:00:00Z'), skipped: 7, next: new Date('2026-01-03T12:00:00Z') });
    });

    it('for any downtime, at most one run is due and the next window is always after now (property)', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 60 * 24 * 20 }), fc.integer({ min: 0, max: 60 * 24 * 3 }), (startMin, downMin) => {
          const last = new Date(Date.UTC(2026, 2, 1) + startMin * 60_000);
          const now = new Date(last.getTime() + downMin * 60_000);
          const spec = { cron: '15 */4 * * *', timeZone: 'Europe/Zurich' };
          const r = dueRun(spec, last, now);
          const passed = nextOccurrences(spec, last, 200).filter((d) => d.getTime() <= now.getTime());
          expect(r.window?.getTime() ?? null).toBe(passed.at(-1)?.getTime() ?? null);
          expect(r.skipped).toBe(Math.max(0, passed.length - 1));
          expect(r.next!.getTime()).toBeGreaterThan(now.getTime());
          // Handled: asking again at the same instant finds nothing more to do.
          if (r.window) expect(dueRun(spec, r.window, now).window).toBeNull();
        }),
      );
    });
  });

  it("a weekday schedule's interval is its weekend gap, and staleness is twice the interval", () => {
    const weekdays = { cron: '0 2 * * 1-5', timeZone: 'UTC' };
    const interval = longestInterval(weekdays, new Date('2026-01-01T00:00:00Z'));
    expect(interval).toBe(3 * DAY);
    const last = new Date('2026-01-01T02:00:00Z');
    expect(isBackupStale(last, last, interval, new Date(last.getTime() + 6 * DAY))).toBe(false);
    expect(isBackupStale(last, last, interval, new Date(last.getTime() + 6 * DAY + 1))).toBe(true);
    // No good backup yet: counted from when the schedule began.
    expect(isBackupStale(null, last, interval, new Date(last.getTime() + 7 * DAY))).toBe(true);
  });
});

describe('retention', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const backup = (i: number, over: Partial<RetainedBackup> = {}): RetainedBackup => ({
    id: `bk_${String(i).padStart(3, '0')}`,
    purpose: 'scheduled',
    status: 'succeeded',
    createdAt: new Date(t0.getTime() + i * HOUR),
    completedAt: new Date(t0.getTime() + i * HOUR + 60_000),
    expiresAt: null,
    inUseByRestore: false,
    ...over,
  });

  it('by count keeps exactly the newest N good backups and prunes the rest, oldest first', () => {
    const backups = [1, 2, 3, 4, 5, 6, 7].map((i) => backup(i));
    expect(backupsToPrune(backups, { retentionCount: 5, retainDays: null }, t0)).toEqual(['bk_001', 'bk_002']);
  });

  it('by count exactly (property): N kept whatever the order, and never one still running', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.shuffledSubarray([...Array(25).keys()], { minLength: 0, maxLength: 25 }), (count, order) => {
        const backups = order.map((i) => backup(i, i % 7 === 3 ? { status: 'running', completedAt: null } : {}));
        const pruned = backupsToPrune(backups, { retentionCount: count, retainDays: null }, t0);
        const good = backups.filter((b) => b.status === 'succeeded');
        expect(good.length - pruned.length).toBe(Math.min(count, good.length));
        const kept = good.filter((b) => !pruned.includes(b.id)).map((b) => b.completedAt!.getTime());
        const gone = good.filter((b) => pruned.includes(b.id)).map((b) => b.completedAt!.getTime());
        if (gone.length > 0) expect(Math.max(...gone)).toBeLessThan(Math.min(...kept));
        expect(pruned.every((id) => backups.find((b) => b.id === id)!.status !== 'running')).toBe(true);
      }),
    );
  });

  it('a failed backup takes no good one’s place: it goes once N good ones are newer', () => {
    const backups = [backup(1, { status: 'failed' }), backup(2), backup(3, { status: 'failed' }), backup(4)];
    expect(backupsToPrune(backups, { retentionCount: 2, retainDays: null }, t0)).toEqual(['bk_001']);
  });

  it('by days prunes at the instant of expiry, not a millisecond before', () => {
    const done = new Date('2026-01-01T10:00:00Z');
    const expiresAt = expiryOf(done, 7)!;
    expect(expiresAt.toISOString()).toBe('2026-01-08T10:00:00.000Z');
    const b = backup(1, { completedAt: done, expiresAt });
    expect(backupsToPrune([b], { retentionCount: null, retainDays: 7 }, new Date(expiresAt.getTime() - 1))).toEqual([]);
    expect(backupsToPrune([b], { retentionCount: null, retainDays: 7 }, expiresAt)).toEqual(['bk_001']);
  });

  it('never prunes a backup a restore is reading, nor a pre-upgrade backup before its upgrade succeeded', () => {
    const inUse = backup(1, { inUseByRestore: true, expiresAt: t0 });
    const guarding = backup(2, { purpose: 'pre_upgrade', expiresAt: t0, upgradeSucceeded: false });
    const released = backup(3, { purpose: 'pre_upgrade', expiresAt: t0, upgradeSucceeded: true });
    const old = [4, 5, 6].map((i) => backup(i));
    const now = new Date(t0.getTime() + DAY);
    expect(backupsToPrune([inUse, guarding, released, ...old], { retentionCount: 1, retainDays: null }, now)).toEqual(['bk_003', 'bk_004', 'bk_005']);
  });

  it('an on-demand backup is not counted by a schedule and goes only at its own expiry', () => {
    const onDemand = backup(1, { purpose: 'on_demand' });
    expect(backupsToPrune([onDemand, backup(2), backup(3)], { retentionCount: 1, retainDays: null }, t0)).toEqual(['bk_002']);
    expect(backupsToPrune([{ ...onDemand, expiresAt: t0 }], null, t0)).toEqual(['bk_001']);
  });
});

describe('restore rules', () => {
  const backup: RestorableBackup = {
    id: 'bk_1',
    organizationId: 'org_a',
    clusterId: 'cl_a',
    kind: 'etcd_snapshot',
    status: 'succeeded',
    region: 'nine-cz41',
    clusterVersion: '1.35.2',
    provider: 'rke2',
    includedNamespaces: [],
    excludedNamespaces: [],
  };
  const own: RestoreTarget = { id: 'cl_a', organizationId: 'org_a', provider: 'rke2', region: 'nine-cz41', version: '1.35.4' };
  const allowed = { organizationId: 'org_a', residency: 'CH', backup, target: own, scope: 'control_plane' as const, targetAddons: [] as string[] };

  it('restores an etcd snapshot into its own cluster at another patch of the same minor', () => {
    expect(() => assertRestoreAllowed(allowed)).not.toThrow();
  });

  it("answers 404 for another organisation's backup or target cluster", () => {
    expect(caught(() => assertRestoreAllowed({ ...allowed, organizationId: 'org_b' })).kind).toBe('not_found');
    expect(caught(() => assertRestoreAllowed({ ...allowed, target: { ...own, organizationId: 'org_b' } })).kind).toBe('not_found');
  });

  it('refuses with 422 a restore that would move data out of the residency country', () => {
    const workload = { ...backup, kind: 'workload' as const };
    const frankfurt = { id: 'cl_de', organizationId: 'org_a', provider: 'gke' as const, region: 'europe-west3', version: '1.35.0' };
    const error = caught(() => assertRestoreAllowed({ ...allowed, backup: workload, target: frankfurt, scope: 'workloads' }));
    expect(error).toMatchObject({ kind: 'unprocessable', type: 'data-residency-violation', extensions: { rule: 'restores stay in the residency country' } });
    // nor a backup whose region is outside the residency (an organisation that changed country)
    expect(caught(() => assertRestoreAllowed({ ...allowed, residency: 'DE' })).type).toBe('data-residency-violation');
  });

  it('restores a control plane only into its own cluster and only from an etcd snapshot', () => {
    const other = { ...own, id: 'cl_b' };
    expect(caught(() => assertRestoreAllowed({ ...allowed, target: other })).type).toBe('restore-target-mismatch');
    expect(caught(() => assertRestoreAllowed({ ...allowed, backup: { ...backup, kind: 'workload' } })).type).toBe('restore-scope-mismatch');
    expect(caught(() => assertRestoreAllowed({ ...allowed, scope: 'workloads' })).type).toBe('restore-scope-mismatch');
  });

  it('restores workloads into another cluster of the organisation in the same country', () => {
    const workload = { ...backup, kind: 'workload' as const };
    expect(() =>
      assertRestoreAllowed({
        ...allowed,
        backup: workload,
        scope: 'workloads',
        target: { id: 'cl_b', organizationId: 'org_a', provider: 'rke2', region: 'nine-es34', version: '1.35.0' },
        targetAddons: ['velero'],
      }),
    ).not.toThrow();
  });

  it("refuses with 422 a workload restore into a cluster of another provider: each provider's backups are restored by its own tool", () => {
    // A Velero backup of an RKE2 cluster sits in the installation's object store; a Backup for GKE
    // backup is a Google resource that only Backup for GKE restores, and only into GKE clusters.
    const veleroBackup = { ...backup, kind: 'workload' as const };
    const gkeZurich: RestoreTarget = { id: 'cl_g', organizationId: 'org_a', provider: 'gke', region: 'europe-west6', version: '1.35.0' };
    const intoGke = caught(() => assertRestoreAllowed({ ...allowed, backup: veleroBackup, scope: 'workloads', target: gkeZurich }));
    expect(intoGke).toMatchObject({
      kind: 'unprocessable',
      type: 'restore-provider-mismatch',
      extensions: { rule: "workload restores stay on the backup's provider", backup_provider: 'rke2', target_provider: 'gke' },
    });
    const gkeBackup = { ...veleroBackup, provider: 'gke' as const, region: 'europe-west6' };
    expect(caught(() => assertRestoreAllowed({ ...allowed, backup: gkeBackup, scope: 'workloads' })).type).toBe('restore-provider-mismatch');
  });

  it('refuses with 422 a workload restore of namespaces the backup does not hold: it would succeed and restore nothing', () => {
    const workload = { ...backup, kind: 'workload' as const, includedNamespaces: ['default', 'shop'], excludedNamespaces: [] };
    const input = { ...allowed, backup: workload, scope: 'workloads' as const, targetAddons: ['velero'] };
    expect(() => assertRestoreAllowed({ ...input, namespaces: ['shop'] })).not.toThrow();
    expect(caught(() => assertRestoreAllowed({ ...input, namespaces: ['shop', 'billing'] }))).toMatchObject({
      kind: 'unprocessable',
      type: 'restore-namespace-not-in-backup',
      extensions: { rule: 'restore only namespaces the backup holds', namespaces: ['billing'], backup_namespaces: ['default', 'shop'] },
    });
    // A backup of every namespace holds all but the ones it excluded.
    const everything = { ...workload, includedNamespaces: [], excludedNamespaces: ['scratch'] };
    expect(() => assertRestoreAllowed({ ...input, backup: everything, namespaces: ['billing'] })).not.toThrow();
    expect(caught(() => assertRestoreAllowed({ ...input, backup: everything, namespaces: ['scratch'] })).type).toBe('restore-namespace-not-in-backup');
  });

  it('refuses a restore onto another Kubernetes minor', () => {
    const error = caught(() => assertRestoreAllowed({ ...allowed, target: { ...own, version: '1.36.1' } }));
    expect(error).toMatchObject({ kind: 'unprocessable', type: 'restore-version-mismatch', extensions: { rule: 'no restore across Kubernetes minors' } });
  });

  it('restores only a backup that succeeded: 409 while it runs, 422 when it failed or went with its cluster, saying why', () => {
    expect(caught(() => assertRestoreAllowed({ ...allowed, backup: { ...backup, status: 'running' } })).kind).toBe('conflict');
    expect(caught(() => assertRestoreAllowed({ ...allowed, backup: { ...backup, status: 'failed' } })).type).toBe('backup-not-restorable');
    const gone = caught(() => assertRestoreAllowed({ ...allowed, backup: { ...backup, status: 'deleted', statusReason: 'deleted with the cluster' } }));
    expect(gone).toMatchObject({ type: 'backup-not-restorable', extensions: { backup_status: 'deleted', reason: 'deleted with the cluster' } });
    expect(gone.message).toContain('deleted with the cluster');
  });

  it('refuses with 422 a workload restore into an RKE2 cluster without the velero add-on, not into GKE nor a control-plane restore', () => {
    const workload = { ...backup, kind: 'workload' as const };
    const input = { ...allowed, backup: workload, scope: 'workloads' as const };
    expect(caught(() => assertRestoreAllowed({ ...input, targetAddons: ['cilium', 'cert-manager'] }))).toMatchObject({
      kind: 'unprocessable',
      type: 'velero-addon-required',
      extensions: { rule: 'RKE2 workload backups and restores need the velero add-on', cluster_id: 'cl_a', addon: 'velero' },
    });
    expect(() => assertRestoreAllowed({ ...input, targetAddons: ['velero'] })).not.toThrow();
    // an etcd snapshot is restored by RKE2 itself
    expect(() => assertRestoreAllowed(allowed)).not.toThrow();
    // Backup for GKE needs no add-on of Capstan's
    const gkeZurich: RestoreTarget = { id: 'cl_g', organizationId: 'org_a', provider: 'gke', region: 'europe-west6', version: '1.35.0' };
    expect(() => assertRestoreAllowed({ ...input, backup: { ...workload, provider: 'gke', region: 'europe-west6' }, target: gkeZurich })).not.toThrow();
  });
});

describe('backup kinds', () => {
  it('takes and schedules RKE2 workload backups only with the velero add-on; etcd snapshots and GKE need none', () => {
    const rke2 = { id: 'cl_a', provider: 'rke2' as const };
    expect(caught(() => assertWorkloadBackupTool(rke2, 'workload', ['cilium'], 'take workload backups of'))).toMatchObject({
      kind: 'unprocessable',
      type: 'velero-addon-required',
    });
    expect(() => assertWorkloadBackupTool(rke2, 'workload', ['velero'], 'take workload backups of')).not.toThrow();
    expect(() => assertWorkloadBackupTool(rke2, 'etcd_snapshot', [], 'take workload backups of')).not.toThrow();
    expect(() => assertWorkloadBackupTool({ id: 'cl_g', provider: 'gke' }, 'workload', [], 'schedule workload backups of')).not.toThrow();
  });

  it('loses node-local etcd snapshots with the cluster, and keeps those in S3 and every workload backup', () => {
    expect(lostWithCluster({ kind: 'etcd_snapshot', location: 'file:///var/lib/rancher/rke2/server/db/snapshots/x' })).toBe(true);
    expect(lostWithCluster({ kind: 'etcd_snapshot', location: null })).toBe(true);
    expect(lostWithCluster({ kind: 'etcd_snapshot', location: 's3://capstan-etcd/shop/x' })).toBe(false);
    expect(lostWithCluster({ kind: 'workload', location: 'velero://shop' })).toBe(false);
  });

  it('offers etcd snapshots on RKE2 (its default) and workload backups only on GKE, refusing an etcd snapshot there with 422', () => {
    expect(backupKindFor('rke2', undefined)).toBe('etcd_snapshot');
    expect(backupKindFor('gke', undefined)).toBe('workload');
    expect(backupKindFor('rke2', 'workload')).toBe('workload');
    expect(caught(() => backupKindFor('gke', 'etcd_snapshot'))).toMatchObject({ kind: 'unprocessable', type: 'backup-kind-unsupported' });
  });
});
