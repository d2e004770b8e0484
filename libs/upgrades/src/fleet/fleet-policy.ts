import { DEFAULT_FLEET_POLICY, type FleetPolicy, type VersionCatalogueEntry } from '@capstan/domain';
import { createHash } from 'node:crypto';

/**
 * The fleet's policy (docs/upgrades.md, "Fleet auto-upgrade"), injected so tests and staff
 * deployments can change it; the defaults are libs/domain's.
 */
export class FleetPolicyConfig {
  constructor(readonly policy: FleetPolicy = DEFAULT_FLEET_POLICY) {}
}

/** The catalogue as a short digest: a pass after a catalogue change plans again at once. */
export function catalogueFingerprint(entries: readonly VersionCatalogueEntry[]): string {
  const canonical = [...entries]
    .map((e) => [e.provider, e.minor, e.latestPatch, e.releasedAt, e.maintenanceAt, e.standardSupportEndsAt, e.endOfSupportAt, e.preview ?? false])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1]), undefined, { numeric: true }));
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 16);
}

/** The actor of everything the fleet scheduler does: the system, never a customer. */
export const FLEET_ACTOR = { type: 'system' as const, id: 'fleet-scheduler' };
