import { Database, newId } from '@capstan/platform';
import { seedOrganization, startTestApi, type TestApi } from '@capstan/testing';
import { sql } from 'kysely';

/**
 * GET /v1/clusters with a label selector AND the status or provider filter. The selector once
 * picked ids first and the filters ran afterwards, so pages came back short with no next cursor
 * and a client paging through silently missed matching clusters.
 */
describe('listing clusters by label selector together with status and provider', () => {
  let api: TestApi;
  let token: string;
  const expected = { prodRunning: [] as string[], prodGke: [] as string[] };

  beforeAll(async () => {
    api = await startTestApi();
    const db = api.app.get(Database);
    const org = await seedOrganization(db, { maxClusters: 1000 });
    token = org.token;
    // A mixed fleet, interleaved so every page holds matches and non-matches alike: the label,
    // the status and the provider each vary on their own period.
    const statuses = ['running', 'provisioning', 'running', 'error', 'running'] as const;
    const rows = Array.from({ length: 60 }, (_, n) => {
      const env = n % 3 === 0 ? 'staging' : 'prod';
      const status = statuses[n % statuses.length]!;
      const provider = n % 4 === 0 ? ('gke' as const) : ('rke2' as const);
      return { id: newId('cl'), name: `fleet-${n}`, env, status, provider };
    });
    await db
      .insertInto('clusters')
      .values(
        rows.map((r) => ({
          id: r.id,
          organization_id: org.organizationId,
          name: r.name,
          live_name: r.name,
          provider: r.provider,
          region: 'nine-cz41',
          current_version: '1.34.2',
          desired_version: '1.34.2',
          status: r.status,
          labels: sql`${JSON.stringify({ env: r.env, team: 'fleet' })}::jsonb`,
          updated_at: new Date(),
        })),
      )
      .execute();
    const byId = [...rows].sort((a, b) => (a.id < b.id ? -1 : 1));
    expected.prodRunning = byId.filter((r) => r.env === 'prod' && r.status === 'running').map((r) => r.id);
    expected.prodGke = byId.filter((r) => r.env === 'prod' && r.provider === 'gke').map((r) => r.id);
  });

  afterAll(async () => {
    await api.close();
  });

  async function pageThrough(query: string, limit: number): Promise<{ ids: string[]; pages: number[] }> {
    const ids: string[] = [];
    const pages: number[] = [];
    let cursor: string | undefined;
    do {
      const res = await api.app.inject({
        method: 'GET',
        url: `/v1/clusters?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { items: { id: string }[]; next_cursor: string | null };
      ids.push(...body.items.map((c) => c.id));
      pages.push(body.items.length);
      cursor = body.next_cursor ?? undefined;
    } while (cursor);
    return { ids, pages };
  }

  it('finds every running prod cluster exactly once, in full pages, with the selector and status filter together', async () => {
    expect(expected.prodRunning.length).toBeGreaterThan(10);
    const { ids, pages } = await pageThrough('label_selector=env%3Dprod&status=running', 4);
    expect(ids).toEqual(expected.prodRunning);
    // Every page but the last is full: no short page ends the listing early.
    expect(pages.slice(0, -1).every((n) => n === 4)).toBe(true);
  });

  it('finds every prod GKE cluster exactly once with the selector and provider filter together', async () => {
    expect(expected.prodGke.length).toBeGreaterThan(5);
    const { ids } = await pageThrough('label_selector=team%3Dfleet%2Cenv!%3Dstaging&provider=gke', 3);
    expect(ids).toEqual(expected.prodGke);
  });
});
