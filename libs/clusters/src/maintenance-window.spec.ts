import { Database } from '@capstan/platform';
import { seedOrganization, startTestApi, type TestApi } from '@capstan/testing';

/**
 * Maintenance windows are checked where clusters are created and updated (docs/upgrades.md,
 * "Maintenance windows"): time zones as IANA spells them, and GKE's 48 h in any 32 days.
 */
describe('maintenance window rules on create and update', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    api = await startTestApi();
    token = (await seedOrganization(api.app.get(Database), { maxClusters: 20, maxNodes: 100 })).token;
  });

  afterAll(async () => {
    await api.close();
  });

  const gke = (name: string, window: unknown) => ({
    name,
    provider: 'gke',
    region: 'europe-west6',
    node_pools: [{ name: 'default', machine_type: 'e2-standard-4', count: 1 }],
    maintenance_window: window,
  });
  const send = (method: 'POST' | 'PATCH', url: string, payload: object, headers: Record<string, string> = {}) =>
    api.app.inject({ method, url, payload, headers: { authorization: `Bearer ${token}`, ...headers } });

  it("refuses a GKE window with less than 48 h in 32 days (Sunday only, 4 h), naming GKE's rule", async () => {
    const res = await send(
      'POST',
      '/v1/clusters',
      gke('sunday-only', { time_zone: 'Europe/Zurich', days: ['SU'], start_time: '02:00', duration_minutes: 240 }),
    );
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      type: expect.stringContaining('maintenance-window-too-short'),
      rule: 'at least 48 h of availability in any 32 days, in windows of at least 4 h',
    });
  });

  it.each(['CET', 'europe/zurich'])('refuses the time zone %j with a 400 naming the field', async (zone) => {
    const res = await send(
      'POST',
      '/v1/clusters',
      gke(`zone-${zone.length}`, { time_zone: zone, days: ['SA', 'SU'], start_time: '22:00', duration_minutes: 360 }),
    );
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toContain('maintenance_window.time_zone');
  });

  it('accepts two 6 h windows a week across midnight on GKE, and refuses shrinking them on update', async () => {
    // given
    const created = await send(
      'POST',
      '/v1/clusters',
      gke('weekend', { time_zone: 'Europe/Zurich', days: ['SA', 'SU'], start_time: '22:00', duration_minutes: 360 }),
    );
    expect(created.statusCode).toBe(202);
    const { id, etag, maintenance_window } = created.json().cluster;
    expect(maintenance_window).toEqual({ time_zone: 'Europe/Zurich', days: ['SA', 'SU'], start_time: '22:00', duration_minutes: 360 });
    // when the window is cut to Sundays only
    const res = await send(
      'PATCH',
      `/v1/clusters/${id}`,
      { maintenance_window: { time_zone: 'Europe/Zurich', days: ['SU'], start_time: '22:00', duration_minutes: 360 } },
      { 'if-match': etag },
    );
    // then
    expect(res.statusCode).toBe(422);
    expect(res.json().type).toContain('maintenance-window-too-short');
  });
});
