import { VERSION_CATALOGUE } from '@capstan/domain';
import { BackgroundWork } from '@capstan/platform';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { VersionCatalogueRepository } from './version-catalogue.repository';

const RETRY_MS = 5_000;

/**
 * Fills `kubernetes_versions` from the seed file when the API starts (docs/upgrades.md, "The
 * version catalogue"): a new release of Capstan brings its new minors and corrected dates, and
 * staff edits made since stay as they are. An API that starts while Postgres is away still starts
 * (its readiness says why it cannot serve) and seeds once Postgres is back.
 */
@Injectable()
export class VersionCatalogueSeeder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('VersionCatalogue');
  private readonly work = new BackgroundWork('VersionCatalogue');
  private seeded = false;

  constructor(private readonly versions: VersionCatalogueRepository) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.seedOnce();
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, `seeding the version catalogue failed; retrying every ${RETRY_MS} ms`);
      this.work.every(RETRY_MS, 'seeding the version catalogue', () => this.seedOnce());
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.work.stop();
  }

  private async seedOnce(): Promise<void> {
    if (this.seeded) return;
    await this.versions.seed(VERSION_CATALOGUE);
    this.seeded = true;
    this.log.log(
      `version catalogue seeded from revision ${VERSION_CATALOGUE.revision} (${VERSION_CATALOGUE.entries.length} entries, checked ${VERSION_CATALOGUE.checkedOn})`,
    );
  }
}
