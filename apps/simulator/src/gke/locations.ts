import { invalidArgument } from './rpc-status';

/**
 * The Google Cloud locations the emulated GKE serves: regions (regional clusters, a control plane
 * replicated over the region's zones) and their zones (zonal clusters), as Google names them.
 */
const ZONES: Record<string, readonly string[]> = {
  'europe-west6': ['europe-west6-a', 'europe-west6-b', 'europe-west6-c'],
  'europe-west3': ['europe-west3-a', 'europe-west3-b', 'europe-west3-c'],
  'europe-west1': ['europe-west1-b', 'europe-west1-c', 'europe-west1-d'],
};

export interface GkeLocation {
  name: string;
  region: string;
  /** Zones nodes may run in: a region's three, or the zone itself. */
  zones: readonly string[];
  regional: boolean;
}

export function findLocation(name: string): GkeLocation | null {
  const zones = ZONES[name];
  if (zones) return { name, region: name, zones, regional: true };
  for (const [region, regionZones] of Object.entries(ZONES)) {
    if (regionZones.includes(name)) return { name, region, zones: [name], regional: false };
  }
  return null;
}

export function requireLocation(name: string): GkeLocation {
  const location = findLocation(name);
  if (!location) throw invalidArgument(`Location "${name}" is not a valid location; the emulated GKE serves ${Object.keys(ZONES).join(', ')} and their zones`);
  return location;
}

/** Node locations of a pool must be zones of the cluster's location. */
export function assertNodeLocations(location: GkeLocation, nodeLocations: readonly string[]): void {
  for (const zone of nodeLocations) {
    const found = findLocation(zone);
    if (!found || found.regional || found.region !== location.region || (!location.regional && zone !== location.name)) {
      throw invalidArgument(`node location "${zone}" is not a zone of ${location.name}`);
    }
  }
}
