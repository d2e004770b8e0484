import { ClusterProvidersModule } from '@capstan/kube';
import { OperationsModule } from '@capstan/operations';
import { type DynamicModule, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { UpgradeClusterSource } from './upgrade-cluster-source';
import { UpgradesController } from './upgrades.controller';
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
  static withSource(source: Type<UpgradeClusterSource>, imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: UpgradesModule,
      imports: [...(imports ?? []), ClusterProvidersModule, OperationsModule],
      controllers: [UpgradesController],
      providers: [{ provide: UpgradeClusterSource, useClass: source }, ListClusterUpgrades, PlanClusterUpgrade, StartUpgrade, RollbackUpgrade],
    };
  }
}
