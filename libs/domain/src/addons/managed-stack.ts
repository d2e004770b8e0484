import { ADDON_CATALOGUE_SEED, addonsAt, defaultAddonNames } from './addon-catalogue';

/**
 * The stack every new cluster gets (the always-on and default add-ons), at the versions the
 * catalogue seed qualifies for a Kubernetes version. The catalogue itself (tiers, chart versions,
 * minors and their sources) is `addon-catalogue.seed.json`; this is the view of it the create step
 * and `GET /v1/versions` use. Rules: docs/addons.md.
 */
export function managedAddonsFor(version: string): { name: string; version: string }[] {
  const releases = ADDON_CATALOGUE_SEED.releases;
  return addonsAt(releases, version, defaultAddonNames(releases)).map(({ name, version: v }) => ({ name, version: v }));
}
