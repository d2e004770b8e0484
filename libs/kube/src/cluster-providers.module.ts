import { ProviderConfig } from '@capstan/platform';
import { ClusterProvider, ClusterProviders, DriverRegistry, DriverRegistryModule, type InfrastructureProvider, ProvidersModule } from '@capstan/providers';
import { Module } from '@nestjs/common';
import { ClusterBackends, UnavailableClusterBackends } from './cluster-backends';
import { DriverBackedProvider } from './driver-backed-provider';
import { TenantKubes } from './tenant-kubes';

/**
 * Binds ClusterProviders, the per-cluster provider the engine and the kubeconfig downloads use,
 * and ClusterBackends (the same choice, for steps that use the driver and TenantKube directly):
 * - `PROVIDER=drivers` (the default): each cluster's own driver from the DriverRegistry (RKE2
 *   through Cluster API, GKE through the Container API), wherever they point: a real management
 *   cluster and Google, or the emulators in apps/simulator (what `npm start` runs);
 * - `PROVIDER=simulated`: the older simulated cloud and its invented API for every cluster, kept
 *   while the tests built on its fault injection move to the emulators.
 */
@Module({
  imports: [ProvidersModule, DriverRegistryModule],
  providers: [
    {
      provide: ClusterProviders,
      inject: [ProviderConfig, ClusterProvider, DriverRegistry],
      useFactory: (config: ProviderConfig, simulated: ClusterProvider, drivers: DriverRegistry): ClusterProviders => {
        if (config.driver === 'simulated') return { for: () => simulated };
        const kubes = new TenantKubes(drivers);
        const built = new Map<InfrastructureProvider, ClusterProvider>();
        return {
          for(provider) {
            let bound = built.get(provider);
            if (!bound) {
              bound = new DriverBackedProvider(drivers.driverFor(provider), (cluster) => kubes.forCluster(provider, cluster));
              built.set(provider, bound);
            }
            return bound;
          },
        };
      },
    },
    {
      provide: ClusterBackends,
      inject: [ProviderConfig, DriverRegistry],
      useFactory: (config: ProviderConfig, drivers: DriverRegistry): ClusterBackends => {
        if (config.driver === 'simulated') return new UnavailableClusterBackends();
        const kubes = new TenantKubes(drivers);
        return { infrastructure: (provider) => drivers.driverFor(provider), kube: (provider, name) => kubes.forCluster(provider, name) };
      },
    },
  ],
  exports: [ClusterProviders, ClusterBackends, ProvidersModule],
})
export class ClusterProvidersModule {}
