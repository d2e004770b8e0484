import type { GkeConfig } from '@capstan/platform';
import type { DriverSource } from '../driver-registry';
import { GkeDriver } from './gke-driver';
import { DEFAULT_GKE_SETTINGS, type GkeCredentials, type GkeDriverSettings } from './gke-settings';

/** The GKE driver's settings from the validated configuration (GKE_* settings), or why there are none. */
export function gkeSettingsFrom(config: GkeConfig): GkeDriverSettings | { unavailable: string } {
  if (!config.project) return { unavailable: 'GKE clusters need a Google Cloud project, and this installation has none configured (GKE_PROJECT)' };
  let credentials: GkeCredentials;
  if (config.tokenUrl) credentials = { kind: 'token-endpoint', url: config.tokenUrl, ...(config.clientSecret ? { clientSecret: config.clientSecret } : {}) };
  else if (config.accessToken) credentials = { kind: 'static', token: config.accessToken };
  else {
    return {
      unavailable:
        'the GKE driver has no credentials: set GKE_TOKEN_URL (with GKE_CLIENT_SECRET) or GKE_ACCESS_TOKEN; Google application-default credentials are not used',
    };
  }
  return {
    ...DEFAULT_GKE_SETTINGS,
    project: config.project,
    apiEndpoint: config.apiEndpoint,
    credentials,
    releaseChannel: config.releaseChannel,
    locations: config.locations,
    nodeZones: config.nodeZones,
    serverNameFromDnsEndpoint: config.tlsServerNameFromDnsEndpoint,
    timeoutMs: config.requestTimeoutMs,
    databaseEncryptionKey: config.databaseEncryptionKey,
  };
}

/** Where the GKE driver comes from, for the DriverRegistry. */
export function gkeDriverSource(config: GkeConfig): DriverSource {
  const settings = gkeSettingsFrom(config);
  if ('unavailable' in settings) return settings;
  return { create: () => new GkeDriver(settings) };
}
