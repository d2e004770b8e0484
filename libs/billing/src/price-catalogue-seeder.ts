import { PRICE_CATALOGUE, seededPrices } from '@capstan/domain';
import { BackgroundWork } from '@capstan/platform';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PricesRepository } from './prices.repository';

const RETRY_MS = 5_000;

/**
 * Fills `prices` from the seed (libs/domain/src/billing/price-catalogue.ts) when the API starts:
 * each seeded price is added once, and a price staff set at the same instant stays as it is. An
 * API that starts while Postgres is away still starts and seeds once Postgres is back.
 */
@Injectable()
export class PriceCatalogueSeeder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('PriceCatalogue');
  private readonly work = new BackgroundWork('PriceCatalogue');
  private seeded = false;

  constructor(private readonly prices: PricesRepository) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.seedOnce();
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, `seeding the price catalogue failed; retrying every ${RETRY_MS} ms`);
      this.work.every(RETRY_MS, 'seeding the price catalogue', () => this.seedOnce());
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.work.stop();
  }

  private async seedOnce(): Promise<void> {
    if (this.seeded) return;
    await this.prices.seed(seededPrices(), PRICE_CATALOGUE.revision);
    this.seeded = true;
    this.log.log(`price catalogue seeded from revision ${PRICE_CATALOGUE.revision} (${PRICE_CATALOGUE.entries.length} prices)`);
  }
}
