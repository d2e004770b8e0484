import { ProviderConfig } from '@capstan/platform';
import { Module } from '@nestjs/common';
import { ClusterProvider } from './cluster-provider';
import { ClusterProviders } from './cluster-providers';
import { SimulatedProvider } from './simulated/simulated-provider';

/**
 * Binds the ClusterProvider port to the configured driver. The RKE2 (Cluster API) and GKE drivers
 * arrive with their own issue; until then only `simulated` boots, and anything else says so.
 */
@Module({
  providers: [
    {
      provide: ClusterProvider,
      inject: [ProviderConfig],
      useFactory: (config: ProviderConfig): ClusterProvider => {
        if (config.driver === 'simulated') return new SimulatedProvider({ apiUrl: config.simulatorUrl, apiToken: config.simulatorToken });
        throw new Error(`PROVIDER=${config.driver} has no driver in this release; use PROVIDER=simulated`);
      },
    },
    {
      // The simulated cloud stands in for both tiers: it takes the tier from each create's spec.
      provide: ClusterProviders,
      inject: [ClusterProvider],
      useFactory: (simulated: ClusterProvider): ClusterProviders => ({ for: () => simulated }),
    },
  ],
  exports: [ClusterProvider, ClusterProviders],
})
export class ProvidersModule {}
