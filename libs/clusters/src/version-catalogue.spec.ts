import { VERSION_CATALOGUE } from '@capstan/domain';
import { Database } from '@capstan/platform';
import { seedOrganization, seedStaff, startTestApi, type TestApi } from '@capstan/testing';
import { VersionCatalogueRepository } from './version-catalogue.repository';

/**
 * The version catalogue lives in Postgres (docs/upgrades.md): seeded from the file when the API
 * starts, edited by staff through /admin/v1/versions (audited), read by GET /v1/versions and by
 * cluster creation. Dates in these tests sit far from today so the states do not depend on when
 * the suite runs.
 */
describe('the version catalogue in Postgres', () => {
  let api: TestApi;
  let db: Database;
  let customer: string;
  let staff: string;

  const farFuture = {
    latest_patch: '1.99.2',
    released_at: '2030-01-10',
    maintenance_at: '2031-01-28',
    end_of_support_at: '2031-03-28',
    sources: {
      releasedAt: 'https://kubernetes.io/releases/1.99/',
      maintenanceAt: 'https://kubernetes.io/releases/1.99/',
      endOfSupportAt: 'https://kubernetes.io/releases/1.99/',
      latestPatch: 'test',
    },
  };

  beforeAll(async () => {
    api = await startTestApi();
    db = api.app.get(Database);
    customer = (await seedOrganization(db, { maxClusters: 10 })).token;
    staff = (await seedStaff(db, 'operator')).token;
  });

  afterAll(async () => {
    await api.close();
  });

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: unknown) =>
    api.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });

  it('is filled from the seed file when the API starts, every date with its source', async () => {
    // when
    const rows = await db.selectFrom('kubernetes_versions').select(['provider', 'minor', 'seed_revision', 'sources']).execute();
    // then
    expect(rows).toHaveLength(VERSION_CATALOGUE.entries.length);
    expect(rows.every((r) => r.seed_revision === VERSION_CATALOGUE.revision)).toBe(true);
    const res = await call('GET', '/v1/versions?provider=rke2', customer);
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { minor: string; sources: Record<string, string>; patches: string[]; addons: unknown[]; channels: string[] }[];
    expect(items.map((v) => v.minor)).toContain('1.37');
    expect(items.find((v) => v.minor === '1.36')).toMatchObject({
      sources: { releasedAt: 'https://kubernetes.io/releases/1.36/' },
      patches: ['1.36.4'],
      addons: expect.arrayContaining([{ name: 'cilium', version: '1.19.6' }]),
    });
  });

  it('lets staff add a minor, audited, and customers see it with its computed state', async () => {
    // when
    const created = await call('POST', '/admin/v1/versions', staff, { provider: 'rke2', minor: '1.99', ...farFuture, reason: 'new upstream minor' });
    // then
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe('/admin/v1/versions/rke2/1.99');
    expect(created.json()).toMatchObject({ minor: '1.99', state: 'supported', latest_patch: '1.99.2', patches: ['1.99.2'] });
    const audit = await db.selectFrom('audit_events').select(['action', 'target_id', 'reason']).where('action', '=', 'version.create').execute();
    expect(audit).toEqual([{ action: 'version.create', target_id: 'rke2/1.99', reason: 'new upstream minor' }]);
    // and adding it twice is a conflict
    const again = await call('POST', '/admin/v1/versions', staff, { provider: 'rke2', minor: '1.99', ...farFuture, reason: 'twice' });
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toContain('application/problem+json');
  });

  it('refuses a date without its source, and dates out of order, as 422', async () => {
    const noSource = await call('POST', '/admin/v1/versions', staff, {
      provider: 'rke2',
      minor: '1.98',
      ...farFuture,
      sources: { releasedAt: 'x-source' },
      reason: 'test',
    });
    expect(noSource.statusCode).toBe(422);
    expect(noSource.json().detail).toContain('sources.endOfSupportAt');
    const corrected = await call('PATCH', '/admin/v1/versions/rke2/1.99', staff, { end_of_support_at: '2029-01-01', reason: 'typo' });
    expect(corrected.statusCode).toBe(422);
    expect(corrected.json().type).toContain('source-required');
  });

  it('lets staff add a newer patch and correct a date with its source; an older patch is refused', async () => {
    const patched = await call('PATCH', '/admin/v1/versions/rke2/1.99', staff, {
      latest_patch: '1.99.3',
      end_of_support_at: '2031-04-28',
      sources: { latestPatch: 'https://kubernetes.io/releases/1.99/ (1.99.3)', endOfSupportAt: 'https://kubernetes.io/releases/1.99/ (corrected)' },
      reason: 'upstream moved the EOL',
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ latest_patch: '1.99.3', patches: ['1.99.2', '1.99.3'], end_of_support_at: '2031-04-28' });
    const older = await call('PATCH', '/admin/v1/versions/rke2/1.99', staff, { latest_patch: '1.99.1', sources: { latestPatch: 'test' }, reason: 'oops' });
    expect(older.statusCode).toBe(422);
    expect(older.json().type).toContain('patch-not-newer');
  });

  it('sets the default for new clusters, one per provider, and creation follows it', async () => {
    // given 1.36 made the default, then 1.99 (supported until 2031, so this holds whenever it runs)
    expect((await call('PATCH', '/admin/v1/versions/rke2/1.36', staff, { default_for_new: true, reason: 'default' })).statusCode).toBe(200);
    expect((await call('PATCH', '/admin/v1/versions/rke2/1.99', staff, { default_for_new: true, reason: 'move on' })).statusCode).toBe(200);
    // then only 1.99 is the default
    const defaults = await db.selectFrom('kubernetes_versions').select('minor').where('provider', '=', 'rke2').where('default_for_new', '=', true).execute();
    expect(defaults).toEqual([{ minor: '1.99' }]);
    // and a cluster that names no version gets its latest patch
    const res = await call('POST', '/v1/clusters', customer, {
      name: 'defaulted',
      provider: 'rke2',
      region: 'nine-cz41',
      node_pools: [{ name: 'default', machine_type: 'nine-standard-4', count: 1 }],
    });
    expect(res.statusCode).toBe(202);
    expect(res.json().cluster.current_version).toBe('1.99.3');
  });

  it('answers 404 for a minor that is not in the catalogue', async () => {
    const res = await call('PATCH', '/admin/v1/versions/gke/1.20', staff, { preview: true, reason: 'none' });
    expect(res.statusCode).toBe(404);
  });

  it('keeps staff edits when the seed runs again, and refuses creation on an EOL minor', async () => {
    // given an EOL minor added by staff
    const eol = {
      provider: 'gke',
      minor: '1.20',
      latest_patch: '1.20.1-gke.1',
      released_at: '2020-01-01',
      end_of_support_at: '2021-01-01',
      sources: { releasedAt: 'test', endOfSupportAt: 'test', latestPatch: 'test' },
      reason: 'history',
    };
    expect((await call('POST', '/admin/v1/versions', staff, eol)).statusCode).toBe(201);
    // when the seed runs again (another replica starting)
    await api.app.get(VersionCatalogueRepository).seed(VERSION_CATALOGUE);
    // then the staff edits of 1.36 and 1.99 are still there, and untouched seed rows stay the seed's
    const rows = await db
      .selectFrom('kubernetes_versions')
      .select(['minor', 'default_for_new', 'latest_patch', 'seed_revision'])
      .where('provider', '=', 'rke2')
      .where('minor', 'in', ['1.35', '1.36', '1.99'])
      .orderBy('minor')
      .execute();
    expect(rows).toEqual([
      { minor: '1.35', default_for_new: false, latest_patch: '1.35.5', seed_revision: VERSION_CATALOGUE.revision },
      { minor: '1.36', default_for_new: false, latest_patch: '1.36.4', seed_revision: null },
      { minor: '1.99', default_for_new: true, latest_patch: '1.99.3', seed_revision: null },
    ]);
    // and creating a cluster on the EOL minor is refused naming the rule
    const res = await call('POST', '/v1/clusters', customer, {
      name: 'old',
      provider: 'gke',
      region: 'europe-west6',
      version: '1.20',
      node_pools: [{ name: 'default', machine_type: 'e2-standard-4', count: 1 }],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().type).toContain('version-end-of-life');
  });
});
