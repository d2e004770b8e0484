/**
 * The bindings of one feature library's port to other features' public functions
 * (docs/architecture.md, "Feature-to-feature calls"), written once for every app that needs them.
 */
export { AddonInventory } from './addon-inventory';
export { BillingFacts } from './billing-facts';
export { ClusterHealthFromProbes } from './cluster-health-status';
export { ClustersForAddons } from './clusters-for-addons';
export { ClusterRestores, ClustersForBackups } from './clusters-for-backups';
export { ClustersForFleet } from './clusters-for-fleet';
export { ClustersForUpgrades } from './clusters-for-upgrades';
export { ClusterUpgradeVersions } from './upgrade-versions';
