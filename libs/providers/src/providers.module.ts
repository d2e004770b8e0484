import { ProviderConfig } from '@capstan/platform';
import { Module } from '@nestjs/common';
import { ClusterProvider } from './cluster-provider';
import { SimulatedProvider } from './simulated/simulated-provider';

/**
 * The simulated cloud's client (its invented JSON API): with `PROVIDER=simulated` it serves every
 * cluster (ClusterProvidersModule in @capstan/kube decides), and the staff fault-injection routes
 * use it whatever the mode, as the emulators keep that chaos API.
 */
@Module({
  providers: [
    {
      provide: ClusterProvider,
      inject: [ProviderConfig],
      useFactory: (config: ProviderConfig): ClusterProvider => new SimulatedProvider({ apiUrl: config.simulatorUrl, apiToken: config.simulatorToken }),
    },
  ],
  exports: [ClusterProvider],
})
export class ProvidersModule {}
