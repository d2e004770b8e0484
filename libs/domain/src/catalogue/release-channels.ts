/**
 * Release channels: which minor each channel of a provider offers today (docs/upgrades.md,
 * "Channels"). Derived from the catalogue's states, never stored, so a date correction moves the
 * channels with it.
 *
 * - RKE2 publishes `latest` (the newest release, previews included) and `stable` (what it
 *   recommends); Capstan's `stable` is the default for new clusters.
 * - GKE has `rapid` (newest, previews included), `regular` (Capstan's default) and `stable` (the
 *   supported minor before regular, or regular itself when there is none).
 */
import type { KubernetesVersion, Provider } from './kubernetes-versions';
import { compareMinors, defaultVersionFor, type VersionCatalogueEntry } from './kubernetes-versions';

export const RELEASE_CHANNELS: Record<Provider, readonly string[]> = { rke2: ['latest', 'stable'], gke: ['rapid', 'regular', 'stable'] };

/** The minor each channel of `provider` offers on `now` (a channel without one is left out). */
export function channelMinors(
  provider: Provider,
  versions: readonly KubernetesVersion[],
  now: Date,
  catalogue: readonly VersionCatalogueEntry[],
): Record<string, string> {
  const own = versions.filter((v) => v.provider === provider).sort((a, b) => compareMinors(b.minor, a.minor));
  const newest = own.find((v) => v.state === 'preview' || v.state === 'supported');
  const recommended = defaultVersionFor(provider, now, catalogue);
  const channels: Record<string, string> = {};
  if (provider === 'rke2') {
    if (newest) channels.latest = newest.minor;
    if (recommended) channels.stable = recommended.minor;
    return channels;
  }
  if (newest) channels.rapid = newest.minor;
  if (recommended) {
    channels.regular = recommended.minor;
    const older = own.find((v) => v.state === 'supported' && compareMinors(v.minor, recommended.minor) < 0);
    channels.stable = (older ?? recommended).minor;
  }
  return channels;
}

/** The channels offering each minor, keyed `${provider} ${minor}`. */
export function channelsByMinor(versions: readonly KubernetesVersion[], now: Date, catalogue: readonly VersionCatalogueEntry[]): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const provider of Object.keys(RELEASE_CHANNELS) as Provider[]) {
    for (const [channel, minor] of Object.entries(channelMinors(provider, versions, now, catalogue))) {
      const key = `${provider} ${minor}`;
      result.set(key, [...(result.get(key) ?? []), channel]);
    }
  }
  return result;
}
