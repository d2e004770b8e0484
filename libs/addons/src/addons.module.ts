import { ClusterProvidersModule } from '@capstan/kube';
import { TenancyModule } from '@capstan/tenancy';
import { ADDON_CATALOGUE_SEED } from '@capstan/domain';
import { BackgroundWork, Database } from '@capstan/platform';
import {
  type DynamicModule,
  Injectable,
  Logger,
  Module,
  type ModuleMetadata,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Type,
} from '@nestjs/common';
import { AddonCatalogue } from './addon-catalogue';
import { AddonClusterSource } from './addon-cluster-source';
import { AddonReleasesRepository } from './addon-releases.repository';
import { AddonsController, StaffAddonsController } from './addons.controller';
import { ClusterAddonsRepository } from './cluster-addons.repository';
import { AddonOperationSteps } from './operation-steps/addon-operation-steps';
import { AddonVersions } from './use-cases/addon-versions';
import { ClusterAddons } from './use-cases/cluster-addons';

const RETRY_MS = 5_000;

/**
 * Fills `addon_releases` from the seed when the API starts (docs/addons.md, "The catalogue"); an
 * API that starts while Postgres is away seeds once it is back.
 */
@Injectable()
export class AddonCatalogueSeeder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('AddonCatalogue');
  private readonly work = new BackgroundWork('AddonCatalogue');
  private seeded = false;

  constructor(
    private readonly db: Database,
    private readonly repo: AddonReleasesRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.seedOnce();
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, `seeding the add-on catalogue failed; retrying every ${RETRY_MS} ms`);
      this.work.every(RETRY_MS, 'seeding the add-on catalogue', () => this.seedOnce());
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.work.stop();
  }

  private async seedOnce(): Promise<void> {
    if (this.seeded) return;
    await this.repo.seed(this.db, ADDON_CATALOGUE_SEED);
    this.seeded = true;
    this.log.log(`add-on catalogue seeded from revision ${ADDON_CATALOGUE_SEED.revision} (${ADDON_CATALOGUE_SEED.releases.length} releases)`);
  }
}

/**
 * Add-on routes and the catalogue. The composition root passes the class answering
 * {@link AddonClusterSource} and the modules it needs (docs/architecture.md, "Feature-to-feature calls").
 */
@Module({})
export class AddonsModule {
  static withSource(source: Type<AddonClusterSource>, imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: AddonsModule,
      imports: [...(imports ?? []), TenancyModule, ClusterProvidersModule],
      controllers: [AddonsController, StaffAddonsController],
      providers: [
        { provide: AddonClusterSource, useClass: source },
        AddonReleasesRepository,
        ClusterAddonsRepository,
        AddonCatalogue,
        AddonCatalogueSeeder,
        AddonVersions,
        ClusterAddons,
      ],
      exports: [AddonCatalogue],
    };
  }
}

/** The catalogue reader alone, for composition roots that bind other features' ports to it (the worker's upgrade steps). */
@Module({ providers: [AddonReleasesRepository, ClusterAddonsRepository, AddonCatalogue], exports: [AddonCatalogue] })
export class AddonCatalogueModule {}

/** The `update_addons` steps for the worker. */
@Module({ providers: [ClusterAddonsRepository, AddonOperationSteps] })
export class AddonOperationStepsModule {}
