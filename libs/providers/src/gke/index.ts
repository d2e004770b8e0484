export { GKE_OPERATION_KIND, GkeDriver, operationStatus } from './gke-driver';
export { DEFAULT_GKE_SETTINGS, type GkeCredentials, type GkeDriverSettings, type GkeReleaseChannel } from './gke-settings';
export { gkeDriverSource, gkeSettingsFrom } from './gke-source';
export * from './backup';
