import { type InfrastructureDriver, type InfrastructureProvider, ProviderError } from '@capstan/providers';
import type { TenantKube } from './tenant-kube';

/**
 * The two halves a cluster's work is split into, resolved per cluster like ClusterProviders: its
 * InfrastructureDriver (RKE2 through Cluster API, GKE through the Container API) and a TenantKube
 * for the work inside it. Upgrade steps use them directly, because they checkpoint the
 * ProviderOperation a driver returns (which the ClusterProvider port cannot carry).
 */
export abstract class ClusterBackends {
  /** The cluster's driver; a final ProviderError when this installation has none for it. */
  abstract infrastructure(provider: InfrastructureProvider): InfrastructureDriver;
  /** Capstan's admin client inside the cluster (`externalName`: its name at the provider). */
  abstract kube(provider: InfrastructureProvider, externalName: string): Promise<TenantKube>;
}

/**
 * `PROVIDER=simulated`: the older simulated cloud has no InfrastructureDriver and no Kubernetes
 * API, so work that needs them fails for good with the reason, instead of retrying for nothing.
 */
export class UnavailableClusterBackends extends ClusterBackends {
  private error(): ProviderError {
    return new ProviderError(
      'this installation runs the simulated provider (PROVIDER=simulated), which has no infrastructure driver or Kubernetes API: upgrades run only on the drivers',
      false,
      'driver_unavailable',
    );
  }

  infrastructure(): InfrastructureDriver {
    throw this.error();
  }

  kube(): Promise<TenantKube> {
    return Promise.reject(this.error());
  }
}
