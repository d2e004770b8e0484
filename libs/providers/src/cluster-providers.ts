import type { ClusterProvider } from './cluster-provider';
import type { InfrastructureProvider } from './infrastructure-driver';

/**
 * Which provider serves a cluster is the cluster's own `provider` (`rke2`, `gke`), not a setting
 * of the process: one installation sells both tiers, so every caller resolves the provider per
 * cluster through this registry.
 */
export abstract class ClusterProviders {
  abstract for(provider: InfrastructureProvider): ClusterProvider;
}
