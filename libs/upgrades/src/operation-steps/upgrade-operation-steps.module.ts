import { type DynamicModule, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { UpgradeOperationSteps } from './upgrade-operation-steps';
import { UpgradeVersions } from './upgrade-versions';

/**
 * The upgrade steps for the worker. The composition root passes the class answering
 * {@link UpgradeVersions} and the modules it needs (docs/architecture.md, "Feature-to-feature calls").
 */
@Module({})
export class UpgradeOperationStepsModule {
  static withVersions(versions: Type<UpgradeVersions>, imports: ModuleMetadata['imports'] = []): DynamicModule {
    return { module: UpgradeOperationStepsModule, imports, providers: [{ provide: UpgradeVersions, useClass: versions }, UpgradeOperationSteps] };
  }
}
