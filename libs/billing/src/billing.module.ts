import { TenancyModule } from '@capstan/tenancy';
import { type DynamicModule, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { BillingFactsSource } from './billing-facts';
import { BillingMonths } from './billing-months';
import { BillingReports } from './billing-reports';
import { BillingController, StaffBillingController } from './billing.controller';
import { InvoicesRepository } from './invoices.repository';
import { PriceCatalogueSeeder } from './price-catalogue-seeder';
import { PricesRepository } from './prices.repository';
import { PricesService } from './prices.service';
import { UsageRepository } from './usage.repository';

/**
 * Billing routes (docs/billing.md). The composition root passes the class answering
 * {@link BillingFactsSource} and the modules it needs (docs/architecture.md, "Feature-to-feature calls").
 */
@Module({})
export class BillingModule {
  static withFacts(source: Type<BillingFactsSource>, imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: BillingModule,
      imports: [TenancyModule, ...(imports ?? [])],
      controllers: [BillingController, StaffBillingController],
      providers: [
        { provide: BillingFactsSource, useClass: source },
        PricesRepository,
        UsageRepository,
        InvoicesRepository,
        PricesService,
        BillingMonths,
        BillingReports,
        PriceCatalogueSeeder,
      ],
      exports: [BillingMonths],
    };
  }
}
