import { ClusterProvidersModule } from '@capstan/kube';
import { OperationsModule } from '@capstan/operations';
import { type DynamicModule, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { UpgradeClusterSource } from './upgrade-cluster-source';
import { UpgradesController } from './upgrades.controller';
import { AdvisoriesController, StaffFleetController } from './fleet/fleet.controller';
import { AdvisoriesRepository, AdvisorySeeder, ClusterComponentInventory, ListAdvisories, ManagedStackInventory } from './fleet/advisories';
import { ComponentScansRepository } from './fleet/component-scan';
import { FleetClusterSource } from './fleet/fleet-cluster-source';
import { RolloutsRepository } from './fleet/rollouts.repository';
import { StaffSecurityUpgrade } from './fleet/security-upgrade';
import { StaffRollouts } from './fleet/staff-rollouts';
import { EventRecordingModule } from '@capstan/events';
import { AuditLog } from '@capstan/tenancy';
import { ListClusterUpgrades } from './use-cases/list-cluster-upgrades';
import { PlanClusterUpgrade } from './use-cases/plan-cluster-upgrade';
import { RollbackUpgrade } from './use-cases/rollback-upgrade';
import { StartUpgrade } from './use-cases/start-upgrade';

/**
 * Upgrade planning and starting routes. The composition root passes the class answering
 * {@link UpgradeClusterSource} and the modules it needs (docs/architecture.md, "Feature-to-feature calls").
 */
@Module({})
export class UpgradesModule {
  static withSource(
    source: Type<UpgradeClusterSource>,
    imports: ModuleMetadata['imports'] = [],
    fleet?: { source: Type<FleetClusterSource>; inventory?: Type<ClusterComponentInventory> },
  ): DynamicModule {
    const base = [{ provide: UpgradeClusterSource, useClass: source }, ListClusterUpgrades, PlanClusterUpgrade, StartUpgrade, RollbackUpgrade];
    if (!fleet)
      return {
        module: UpgradesModule,
        imports: [...(imports ?? []), ClusterProvidersModule, OperationsModule],
        controllers: [UpgradesController],
        providers: base,
      };
    // With a fleet source: staff's rollouts, advisories and the security override, customers' advisories.
    return {
      module: UpgradesModule,
      imports: [...(imports ?? []), ClusterProvidersModule, OperationsModule, EventRecordingModule],
      controllers: [UpgradesController, AdvisoriesController, StaffFleetController],
      providers: [
        ...base,
        { provide: FleetClusterSource, useClass: fleet.source },
        { provide: ClusterComponentInventory, useClass: fleet.inventory ?? ManagedStackInventory },
        RolloutsRepository,
        AuditLog,
        StaffRollouts,
        AdvisoriesRepository,
        ComponentScansRepository,
        AdvisorySeeder,
        ListAdvisories,
        StaffSecurityUpgrade,
      ],
    };
  }
}
