import type { MaintenanceWindowSpec } from '@capstan/domain';
import { newId, type UnitOfWork } from '@capstan/platform';
import { sql } from 'kysely';

/** mulberry32: a small deterministic PRNG whose low bits are as random as its high ones. */
export function seededRandom(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * n);
  };
}

const ZONES = ['Europe/Zurich', 'America/New_York', 'Asia/Tokyo', 'UTC', 'Australia/Sydney', 'Europe/London'];
const DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
const SCOPES = ['no_upgrades', 'no_minor_upgrades', 'no_minor_or_node_upgrades'] as const;

/** An rke2 catalogue whose states on `now` are fixed: 1.33 EOL, 1.34 ending in 20 days, 1.35 and 1.36 supported. */
export async function seedFleetCatalogue(db: UnitOfWork, now: Date): Promise<void> {
  const day = (offsetDays: number) => new Date(now.getTime() + offsetDays * 86_400_000);
  await db.deleteFrom('kubernetes_versions').where('provider', '=', 'rke2').execute();
  const rows: [string, string, Date][] = [
    ['1.33', '1.33.9', day(-30)],
    ['1.34', '1.34.8', day(20)],
    ['1.35', '1.35.5', day(300)],
    ['1.36', '1.36.4', day(500)],
  ];
  await db
    .insertInto('kubernetes_versions')
    .values(
      rows.map(([minor, latest, eol]) => ({
        provider: 'rke2' as const,
        minor,
        latest_patch: latest,
        patches: [latest],
        released_at: day(-400),
        end_of_support_at: eol,
        sources: sql`'{"releasedAt":"test","endOfSupportAt":"test","latestPatch":"test"}'::jsonb`,
        updated_at: now,
      })),
    )
    .execute();
}

export interface RunningClusterSeed {
  id: string;
  organizationId: string;
  name: string;
  provider?: 'rke2' | 'gke';
  /** The control plane's and every pool's version. */
  version: string;
  /** One pool `default` of 3 nodes, surge 1 and unavailable 0, unless given. */
  pools?: { name: string; nodeCount?: number; maxSurge?: number; maxUnavailable?: number }[];
  window?: MaintenanceWindowSpec;
}

/**
 * One running cluster with its node pools and (when given) its maintenance window, written
 * straight to the owners' tables as a provisioned cluster would be (test setup only). Regions and
 * machine types are the provider's usual ones.
 */
export async function seedRunningCluster(db: UnitOfWork, seed: RunningClusterSeed, now = new Date()): Promise<void> {
  const provider = seed.provider ?? 'rke2';
  await db
    .insertInto('clusters')
    .values({
      id: seed.id,
      organization_id: seed.organizationId,
      name: seed.name,
      live_name: seed.name,
      provider,
      region: provider === 'gke' ? 'europe-west6' : 'nine-cz41',
      current_version: seed.version,
      desired_version: seed.version,
      status: 'running',
      labels: sql`'{}'::jsonb`,
      updated_at: now,
    })
    .execute();
  await db
    .insertInto('node_pools')
    .values(
      (seed.pools ?? [{ name: 'default' }]).map((pool) => ({
        id: newId('np'),
        cluster_id: seed.id,
        organization_id: seed.organizationId,
        name: pool.name,
        live_name: pool.name,
        machine_type: provider === 'gke' ? 'e2-standard-4' : 'nine-standard-4',
        node_count: pool.nodeCount ?? 3,
        version: seed.version,
        max_surge: pool.maxSurge ?? 1,
        max_unavailable: pool.maxUnavailable ?? 0,
        status: 'running' as const,
        updated_at: now,
      })),
    )
    .execute();
  if (seed.window) {
    await db
      .insertInto('maintenance_windows')
      .values({
        cluster_id: seed.id,
        time_zone: seed.window.timeZone,
        days: [...seed.window.days],
        start_time: seed.window.startTime,
        duration_minutes: seed.window.durationMinutes,
        updated_at: now,
      })
      .execute();
  }
}

export interface SeededFleetCluster {
  id: string;
  organizationId: string;
  version: string;
  labels: Record<string, string>;
  window: { timeZone: string; days: string[]; startTime: string; durationMinutes: number } | null;
  exclusions: { scope: (typeof SCOPES)[number]; startsAt: Date; endsAt: Date }[];
}

/**
 * `count` running rke2 clusters across `organizationIds`, written straight to the owners' tables
 * (test and bench setup only): versions across the catalogue, environments (production, staging,
 * dev, unlabelled), windows in several zones, a few without one, and exclusions over the coming
 * weeks. Deterministic for a given `seed`.
 */
export async function seedFleet(
  db: UnitOfWork,
  options: { organizationIds: string[]; count: number; now: Date; seed?: number; versions?: string[] },
): Promise<SeededFleetCluster[]> {
  const rnd = seededRandom(options.seed ?? 1);
  const versions = options.versions ?? ['1.33.2', '1.34.1', '1.34.8', '1.35.0', '1.35.5', '1.36.1'];
  const now = options.now;
  const clusters: SeededFleetCluster[] = [];
  for (let i = 0; i < options.count; i++) {
    const days = [...new Set([DAYS[rnd(7)]!, DAYS[rnd(7)]!])];
    const environment = [{ environment: 'production' }, { environment: 'staging' }, { environment: 'dev' }, {}][rnd(4)]! as Record<string, string>;
    clusters.push({
      id: newId('cl'),
      organizationId: options.organizationIds[rnd(options.organizationIds.length)]!,
      version: versions[rnd(versions.length)]!,
      labels: environment,
      window:
        rnd(25) === 0
          ? null
          : {
              timeZone: ZONES[rnd(ZONES.length)]!,
              days,
              startTime: `${String(rnd(24)).padStart(2, '0')}:${rnd(2) ? '30' : '00'}`,
              durationMinutes: 240 + 60 * rnd(4),
            },
      exclusions: Array.from({ length: rnd(3) }, () => {
        const start = now.getTime() + rnd(40) * 86_400_000 + rnd(24) * 3_600_000;
        return { scope: SCOPES[rnd(3)]!, startsAt: new Date(start), endsAt: new Date(start + (1 + rnd(14)) * 86_400_000) };
      }),
    });
  }
  for (let i = 0; i < clusters.length; i += 1_000) {
    const chunk = clusters.slice(i, i + 1_000);
    await db
      .insertInto('clusters')
      .values(
        chunk.map((c, j) => ({
          id: c.id,
          organization_id: c.organizationId,
          name: `fleet-${i + j}`,
          live_name: `fleet-${i + j}`,
          provider: 'rke2' as const,
          region: 'nine-cz41',
          current_version: c.version,
          desired_version: c.version,
          status: 'running' as const,
          labels: sql`${JSON.stringify(c.labels)}::jsonb`,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    await db
      .insertInto('node_pools')
      .values(
        chunk.map((c) => ({
          id: newId('np'),
          cluster_id: c.id,
          organization_id: c.organizationId,
          name: 'default',
          live_name: 'default',
          machine_type: 'nine-standard-4',
          node_count: 3,
          version: c.version,
          max_surge: 1,
          max_unavailable: 0,
          status: 'running' as const,
          updated_at: now,
        })),
      )
      .execute();
    const windows = chunk.filter((c) => c.window);
    if (windows.length > 0) {
      await db
        .insertInto('maintenance_windows')
        .values(
          windows.map((c) => ({
            cluster_id: c.id,
            time_zone: c.window!.timeZone,
            days: c.window!.days as ('MO' | 'TU' | 'WE' | 'TH' | 'FR' | 'SA' | 'SU')[],
            start_time: c.window!.startTime,
            duration_minutes: c.window!.durationMinutes,
            updated_at: now,
          })),
        )
        .execute();
    }
    const exclusions = chunk.flatMap((c) =>
      c.exclusions.map((e, k) => ({ id: newId('mx'), cluster_id: c.id, name: `freeze-${k}`, scope: e.scope, starts_at: e.startsAt, ends_at: e.endsAt })),
    );
    if (exclusions.length > 0) await db.insertInto('maintenance_exclusions').values(exclusions).execute();
  }
  return clusters;
}
