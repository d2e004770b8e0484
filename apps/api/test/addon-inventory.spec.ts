import { AddonCatalogue, AddonCatalogueModule } from '@capstan/addons';
import { AddonInventory } from '@capstan/composition';
import { ADDON_CATALOGUE_SEED, type Advisory, addonNames, findingsFor } from '@capstan/domain';
import { Database, ManualClock, PlatformModule } from '@capstan/platform';
import { createTestDatabase, seedFleet, seedOrganization, testConfig, type TestDatabase } from '@capstan/testing';
import type { FleetClusterFacts } from '@capstan/upgrades';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

/**
 * Advisories judge the add-on versions a cluster runs (docs/addons.md, "Advisories"): what was read
 * back from the cluster, else the catalogue version installed at its minor; removed add-ons are not
 * judged, optional ones only once enabled. A real database; the clusters are written to the owners' tables.
 */
describe('the component inventory advisories read', () => {
  const NOW = new Date('2026-12-04T12:00:00Z');
  let database: TestDatabase;
  let moduleRef: INestApplicationContext;
  let db: Database;
  let inventory: AddonInventory;

  beforeAll(async () => {
    database = await createTestDatabase();
    @Module({
      imports: [PlatformModule.forRoot(testConfig(database.url), 'api', { clock: new ManualClock(NOW) }), AddonCatalogueModule],
      providers: [AddonInventory],
    })
    class InventoryTestModule {}
    moduleRef = await NestFactory.createApplicationContext(InventoryTestModule, { logger: false });
    db = moduleRef.get(Database);
    inventory = moduleRef.get(AddonInventory);
    expect(moduleRef.get(AddonCatalogue)).toBeDefined();
  }, 120_000);

  afterAll(async () => {
    await moduleRef?.close();
    await database?.drop();
  });

  it('lists Kubernetes and the add-ons each cluster runs, at the version read back from it, and finds the advisories they fall under', async () => {
    const { organizationId } = await seedOrganization(db, { maxClusters: 10 });
    const [a, b] = await seedFleet(db, { organizationIds: [organizationId], count: 2, now: NOW, seed: 3, versions: ['1.35.5'] });
    const release = (name: string) => addonNames(ADDON_CATALOGUE_SEED.releases).find((r) => r.name === name)!;
    const removable = ADDON_CATALOGUE_SEED.releases.find((r) => r.tier === 'default')!.name;
    const row = (clusterId: string, name: string, enabled: boolean, installed: string | null) => ({
      cluster_id: clusterId,
      organization_id: organizationId,
      name,
      enabled,
      settings: '{}',
      status: enabled ? 'installed' : 'removed',
      installed_version: installed,
      created_at: NOW,
      updated_at: NOW,
    });
    await db
      .insertInto('cluster_addons')
      .values([row(a!.id, 'keda', true, '2.10.0'), row(a!.id, removable, false, null)])
      .execute();
    const facts = [a!, b!].map((c) => ({ id: c.id, controlPlaneVersion: c.version }) as FleetClusterFacts);

    const components = await inventory.components(facts);
    const first = components.get(a!.id)!;
    const second = components.get(b!.id)!;
    expect(first).toContainEqual({ name: 'kubernetes', version: '1.35.5' });
    // Enabled and read back: the version the cluster reported, not the catalogue's.
    expect(first).toContainEqual({ name: 'keda', version: '2.10.0' });
    // Removed by the customer: not judged. Untouched on the other cluster: the default runs.
    expect(first.map((c) => c.name)).not.toContain(removable);
    expect(second.map((c) => c.name)).toContain(removable);
    // Optional and never enabled: nothing runs, nothing to judge.
    expect(second.map((c) => c.name)).not.toContain('keda');
    expect(release('keda').tier).toBe('optional');

    const advisory: Advisory = {
      id: 'TEST-KEDA-1',
      kind: 'vulnerability',
      component: 'keda',
      title: 'a test advisory on old KEDA charts',
      severity: 'high',
      cvss: 8.1,
      affected: [{ fixed: '2.12.0' }],
      fixedIn: ['2.12.0'],
      remedy: 'upgrade KEDA',
      publishedOn: '2026-11-01',
      sources: ['test'],
    } as Advisory;
    expect(findingsFor(first, [advisory])).toEqual([expect.objectContaining({ advisoryId: 'TEST-KEDA-1', component: 'keda', version: '2.10.0' })]);
    expect(findingsFor(second, [advisory])).toEqual([]);
  });
});
