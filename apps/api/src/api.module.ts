import { AddonCatalogueModule, AddonsModule } from '@capstan/addons';
import { BackupsModule } from '@capstan/backups';
import { BillingModule } from '@capstan/billing';
import { type CapstanConfig, PlatformModule } from '@capstan/platform';
import { ClustersModule } from '@capstan/clusters';
import { EventsModule } from '@capstan/events';
import { OperationsModule } from '@capstan/operations';
import { ClusterDowntimeModule, SlaReportsModule } from '@capstan/sla';
import { TenancyModule } from '@capstan/tenancy';
import { UpgradesModule } from '@capstan/upgrades';
import { type DynamicModule, Module } from '@nestjs/common';
import { AddonInventory, BillingFacts, ClustersForAddons, ClustersForBackups, ClustersForFleet, ClustersForUpgrades } from '@capstan/composition';

/** The customer and staff HTTP API: mounts the feature modules' controllers, nothing more. */
@Module({})
export class ApiModule {
  static forRoot(config: CapstanConfig): DynamicModule {
    const backups = BackupsModule.withSource(ClustersForBackups, [ClustersModule, AddonCatalogueModule, TenancyModule]);
    return {
      module: ApiModule,
      imports: [
        PlatformModule.forRoot(config, 'api'),
        TenancyModule,
        OperationsModule,
        ClustersModule,
        UpgradesModule.withSource(ClustersForUpgrades, [ClustersModule, AddonCatalogueModule, ClusterDowntimeModule], {
          source: ClustersForFleet,
          inventory: AddonInventory,
        }),
        AddonsModule.withSource(ClustersForAddons, [ClustersModule]),
        backups,
        EventsModule,
        SlaReportsModule,
        BillingModule.withFacts(BillingFacts, [ClustersModule, OperationsModule, SlaReportsModule, backups]),
      ],
    };
  }
}
