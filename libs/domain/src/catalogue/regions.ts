/**
 * Where clusters (and their backups and restores) may run.
 *
 * Regions are data with a country each, because an organisation's residency limits the regions it
 * may use (docs/regions.md). Nine's API names its Swiss locations
 * `nine-cz41`, `nine-cz42` and `nine-es34`; GKE names are Google Cloud's region ids.
 */
import { UnprocessableError } from '../errors/domain-error';
import { Provider } from './provider';

export interface Region {
  id: string;
  provider: Provider;
  /** ISO 3166-1 alpha-2, compared with the organisation's residency. */
  country: string;
  displayName: string;
}

// Frozen to the leaves: the catalogue is shared by every request in the process.
export const REGIONS: readonly Readonly<Region>[] = Object.freeze(
  (
    [
      { id: 'nine-cz41', provider: 'rke2', country: 'CH', displayName: 'Zurich CZ41' },
      { id: 'nine-cz42', provider: 'rke2', country: 'CH', displayName: 'Zurich CZ42' },
      { id: 'nine-es34', provider: 'rke2', country: 'CH', displayName: 'Zurich ES34' },
      { id: 'europe-west6', provider: 'gke', country: 'CH', displayName: 'Zurich' },
      { id: 'europe-west3', provider: 'gke', country: 'DE', displayName: 'Frankfurt' },
      { id: 'europe-west1', provider: 'gke', country: 'BE', displayName: 'St. Ghislain' },
    ] satisfies Region[]
  ).map((x) => Object.freeze(x)),
);

export function listRegions(provider?: Provider): Region[] {
  return REGIONS.filter((r) => provider === undefined || r.provider === provider);
}

/** The regions of `provider` an organisation with this residency may use. */
export function regionsAllowed(provider: Provider, residency: string): Region[] {
  const country = residency.trim().toUpperCase();
  return listRegions(provider).filter((r) => r.country === country);
}

/**
 * The region a cluster, backup or restore may use. A request outside the organisation's residency
 * is refused as a 422 naming the rule (docs/regions.md); the same check
 * serves clusters, backups and restores so none of them can leak data out of the country.
 */
export function assertRegionAllowed(regionId: string, provider: Provider, residency: string): Region {
  const region = REGIONS.find((r) => r.id === regionId);
  const ofProvider = listRegions(provider)
    .map((r) => `${r.id} (${r.country})`)
    .join(', ');
  if (!region || region.provider !== provider) {
    const why = region ? `is a ${region.provider} region, not a ${provider} one` : `is not offered for ${provider}`;
    throw new UnprocessableError('region-not-offered', `region ${regionId} ${why}; ${provider} regions are ${ofProvider}`, {
      region: regionId,
      provider,
      offered: listRegions(provider).map((r) => r.id),
    });
  }

  const country = residency.trim().toUpperCase();
  if (region.country !== country) {
    const allowed = regionsAllowed(provider, country).map((r) => r.id);
    const alternatives = allowed.length > 0 ? `${provider} regions in ${country}: ${allowed.join(', ')}` : `${provider} has no region in ${country}`;
    throw new UnprocessableError(
      'data-residency-violation',
      `region ${region.id} is in ${region.country}, but organisation data must stay in ${country}; ${alternatives}`,
      { region: region.id, country: region.country, residency: country, allowed },
    );
  }
  return region;
}
