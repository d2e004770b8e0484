/**
 * How the GKE driver reaches the Container API and lays clusters out. Built from libs/platform's
 * GkeConfig by the driver registry, or by hand in tests.
 */
export type GkeReleaseChannel = 'RAPID' | 'REGULAR' | 'STABLE' | 'EXTENDED';

/**
 * Where the driver's bearer tokens come from. `token-endpoint` is an OAuth 2.0 client-credentials
 * endpoint (the simulated cloud's); `static` is a token handed in as is. Neither involves Google's
 * own credential discovery, which would look for a metadata server at 169.254.169.254.
 */
export type GkeCredentials = { kind: 'static'; token: string } | { kind: 'token-endpoint'; url: string; clientSecret?: string };

export interface GkeDriverSettings {
  project: string;
  /** Root of the Container API, `https://container.googleapis.com` or the emulator's `http://127.0.0.1:8091`. */
  apiEndpoint: string;
  credentials: GkeCredentials;
  releaseChannel: GkeReleaseChannel;
  /** GKE location of a Capstan region's clusters: the region itself (a regional, replicated control plane) unless mapped. */
  locations: Readonly<Record<string, string>>;
  /** The zone a region's node pools run in, so a pool's node count is the count Capstan asked for. */
  nodeZones: Readonly<Record<string, string>>;
  /**
   * Send the cluster's DNS endpoint as TLS server name when reaching its API server at its IP
   * endpoint: the emulator serves every cluster on one address and picks it by name.
   */
  serverNameFromDnsEndpoint: boolean;
  /** The small pool GKE needs at creation (a cluster cannot start without nodes); Capstan's pools come after. */
  systemPool: { name: string; machineType: string; nodeCount: number };
  /** Bound on one Container API call. */
  timeoutMs: number;
  /** How long updateNodePool waits for one change to finish before sending the next (GKE runs one at a time). */
  changeWaitMs: number;
  /** Cloud KMS key for application-layer Secrets encryption of new clusters; null: none asked for. */
  databaseEncryptionKey: string | null;
}

export const DEFAULT_GKE_SETTINGS: Omit<GkeDriverSettings, 'project' | 'apiEndpoint' | 'credentials'> = {
  releaseChannel: 'REGULAR',
  locations: {},
  nodeZones: {},
  serverNameFromDnsEndpoint: false,
  systemPool: { name: 'capstan-system', machineType: 'e2-standard-2', nodeCount: 1 },
  timeoutMs: 30_000,
  changeWaitMs: 120_000,
  databaseEncryptionKey: null,
};

export function locationOf(settings: GkeDriverSettings, region: string): string {
  return settings.locations[region] ?? region;
}

/** Every Google Cloud region Capstan offers has a `-b` zone (europe-west1 has no `-a`). */
export function nodeZoneOf(settings: GkeDriverSettings, region: string): string {
  return settings.nodeZones[region] ?? `${region}-b`;
}
