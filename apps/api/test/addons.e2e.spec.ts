import { createCapstanClient } from '@capstan/sdk';
import { seedOrganization, seedStaff } from '@capstan/testing';
import { type Client, DriverSuite, onDriverStack } from './driver-suite';

interface ObjectList {
  items: { metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: { chart?: string; version?: string } }[];
}

/**
 * The managed add-on stack on the real drivers against the emulators (docs/addons.md): ArgoCD and
 * KEDA enabled through the API are installed by helm-controller (RKE2's own; on GKE the one Capstan
 * deploys) at the catalogue's versions, which the real kubectl reads back from the cluster's own
 * objects; an add-on the catalogue has no release of for the next minor blocks the upgrade plan.
 */
describe('managed add-ons on the real drivers', () => {
  const suite = onDriverStack(new DriverSuite(), 'capstan-addons-');
  let other: Client;
  let staff: Client;

  beforeAll(async () => {
    other = createCapstanClient({ baseUrl: suite.stack.apiUrl, token: (await seedOrganization(suite.stack.prisma)).token, idempotencyKeys: true });
    staff = createCapstanClient({ baseUrl: suite.stack.apiUrl, token: (await seedStaff(suite.stack.prisma, 'operator')).token });
  });

  /** kubectl on the cluster with a kubeconfig issued for this call. */
  const kubectl = async (clusterId: string, ...args: string[]) => suite.kubectl(await suite.kubeconfigOf(clusterId), ...args);

  const enable = (clusterId: string, name: string, settings: Record<string, string | number | boolean> = {}, as = suite.client) =>
    as.PUT('/v1/clusters/{cluster_id}/addons/{name}', { params: { path: { cluster_id: clusterId, name } }, body: { settings } });
  const addons = async (clusterId: string) =>
    (await suite.client.GET('/v1/clusters/{cluster_id}/addons', { params: { path: { cluster_id: clusterId } } })).data!.items;
  const catalogueVersion = async (name: string, minor: string) => {
    const rows = (await suite.client.GET('/v1/addons', {})).data!.items.filter((r) => r.name === name);
    const m = Number(minor.split('.')[1]);
    const covering = rows.filter((r) => Number(r.min_minor.split('.')[1]) <= m && m <= Number(r.max_minor.split('.')[1]));
    return covering.sort((a, b) => a.version.localeCompare(b.version, undefined, { numeric: true })).at(-1)!.version;
  };

  for (const provider of ['rke2', 'gke'] as const) {
    it(`enables ArgoCD and KEDA on ${provider}: helm-controller installs them at the catalogue's versions, read back from the cluster's own objects`, async () => {
      const clusterId = await suite.createCluster(provider, `addons-${provider}`, '1.35');
      const before = await addons(clusterId);
      // defaults on, optional off, the bundled ones left to the distribution
      expect(before.find((a) => a.name === 'cert-manager')).toMatchObject({ tier: 'default', enabled: true, removable: true });
      expect(before.find((a) => a.name === 'keda')).toMatchObject({ tier: 'optional', enabled: false, status: 'disabled', installed_version: null });
      expect(before.find((a) => a.name === 'cilium')).toMatchObject({ tier: 'always_on', removable: false, managed_by: 'distribution', status: 'bundled' });

      const argoVersion = await catalogueVersion('argo-cd', '1.35');
      const kedaVersion = await catalogueVersion('keda', '1.35');
      for (const [name, settings] of [
        ['argo-cd', { ha: false, server_replicas: 2 }],
        ['keda', { operator_replicas: 2 }],
      ] as const) {
        const accepted = await enable(clusterId, name, settings);
        expect(accepted.response.status).toBe(202);
        expect(accepted.data!.operation).toMatchObject({ type: 'update_addons', steps: [{ name: 'apply_addon' }, { name: 'verify_addon' }] });
        expect(await suite.finished(accepted.data!.operation.id)).toMatchObject({ status: 'succeeded' });
      }

      const after = await addons(clusterId);
      expect(after.find((a) => a.name === 'argo-cd')).toMatchObject({
        enabled: true,
        desired_version: argoVersion,
        installed_version: argoVersion,
        status: 'installed',
        observed: 'live',
        settings: { ha: false, server_replicas: 2 },
      });
      expect(after.find((a) => a.name === 'keda')).toMatchObject({
        enabled: true,
        desired_version: kedaVersion,
        installed_version: kedaVersion,
        status: 'installed',
      });

      // The cluster's own objects, read with the real kubectl: the HelmCharts and the releases' workloads.
      const charts = JSON.parse(await kubectl(clusterId, 'get', 'helmcharts', '-n', 'kube-system', '-o', 'json')) as ObjectList;
      expect(charts.items.find((c) => c.metadata.name === 'capstan-keda')?.spec).toMatchObject({ chart: 'keda', version: kedaVersion });
      expect(charts.items.find((c) => c.metadata.name === 'capstan-argo-cd')?.spec).toMatchObject({ chart: 'argo-cd', version: argoVersion });
      const workloads = JSON.parse(await kubectl(clusterId, 'get', 'deployments', '-A', '-l', 'app.kubernetes.io/managed-by=Helm', '-o', 'json')) as ObjectList;
      const chartLabel = (release: string) =>
        workloads.items.find((d) => d.metadata.labels?.['app.kubernetes.io/instance'] === release)?.metadata.labels?.['helm.sh/chart'];
      expect(chartLabel('capstan-keda')).toBe(`keda-${kedaVersion}`);
      expect(chartLabel('capstan-argo-cd')).toBe(`argo-cd-${argoVersion}`);

      // Each change is audited and recorded with what the operation read back.
      const audit = await suite.stack.database
        .selectFrom('audit_events')
        .select(['action', 'target_id'])
        .where('organization_id', '=', suite.organizationId)
        .where('action', '=', 'cluster.addon.update')
        .where('target_id', 'in', [`${clusterId}/argo-cd`, `${clusterId}/keda`])
        .execute();
      expect(audit).toHaveLength(2);
      const rows = await suite.stack.database
        .selectFrom('cluster_addons')
        .select(['name', 'installed_version', 'status'])
        .where('cluster_id', '=', clusterId)
        .execute();
      expect(rows.find((r) => r.name === 'keda')).toMatchObject({ installed_version: kedaVersion, status: 'installed' });

      // Removing KEDA uninstalls it; an always-on add-on cannot be removed.
      const removed = await suite.client.DELETE('/v1/clusters/{cluster_id}/addons/{name}', { params: { path: { cluster_id: clusterId, name: 'keda' } } });
      expect(removed.response.status).toBe(202);
      expect(await suite.finished(removed.data!.operation.id)).toMatchObject({ status: 'succeeded' });
      expect((await addons(clusterId)).find((a) => a.name === 'keda')).toMatchObject({ enabled: false, installed_version: null });
      const again = await suite.client.DELETE('/v1/clusters/{cluster_id}/addons/{name}', { params: { path: { cluster_id: clusterId, name: 'keda' } } });
      expect(again.response.status).toBe(404);
      const alwaysOn = await suite.client.DELETE('/v1/clusters/{cluster_id}/addons/{name}', { params: { path: { cluster_id: clusterId, name: 'coredns' } } });
      expect(alwaysOn.response.status).toBe(422);
      expect(alwaysOn.response.headers.get('content-type')).toContain('application/problem+json');
      expect(alwaysOn.error).toMatchObject({ type: expect.stringContaining('addon-always-on'), rule: 'always-on add-ons stay' });
    }, 300_000);
  }

  it('blocks the upgrade plan of a cluster running an add-on the catalogue has no release of for the next minor, until staff add one', async () => {
    const clusterId = await suite.createCluster('rke2', 'addons-blocked', '1.35');
    const plan = async () =>
      (await suite.client.GET('/v1/clusters/{cluster_id}/upgrade-plan', { params: { path: { cluster_id: clusterId }, query: { version: '1.36' } } })).data!;
    expect((await plan()).blockers).toEqual([]);

    const accepted = await enable(clusterId, 'argo-cd');
    expect(await suite.finished(accepted.data!.operation.id)).toMatchObject({ status: 'succeeded' });
    const blocked = await plan();
    expect(blocked.runnable).toBe(false);
    expect(blocked.blockers).toEqual([expect.objectContaining({ kind: 'addon_incompatible', details: { minor: '1.36', addons: ['argo-cd'] } })]);
    const refused = await suite.client.POST('/v1/clusters/{cluster_id}/upgrade', { params: { path: { cluster_id: clusterId } }, body: { version: '1.36' } });
    expect(refused.response.status).toBe(422);
    expect(refused.error).toMatchObject({ type: expect.stringContaining('upgrade-blocked') });

    // Staff qualify a release for 1.36, with its source; the same plan is clear.
    const argo = (await suite.client.GET('/v1/addons', {})).data!.items.filter((r) => r.name === 'argo-cd').at(-1)!;
    const put = await staff.PUT('/admin/v1/addon-versions/{name}/{version}', {
      params: { path: { name: 'argo-cd', version: '9.6.0' } },
      body: {
        title: argo.title,
        tier: argo.tier,
        chart_repo: argo.chart_repo,
        chart: argo.chart,
        namespace: argo.namespace,
        app_version: 'v3.4.0',
        min_minor: '1.34',
        max_minor: '1.36',
        settings_schema: argo.settings_schema as { type: 'object'; additionalProperties: false; properties: Record<string, Record<string, unknown>> },
        source: 'argo-cd.readthedocs.io/en/release-3.4/operator-manual/installation/#tested-versions',
        reason: 'Argo CD 3.4 is tested on 1.36',
      },
    });
    expect(put.response.status).toBe(200);
    expect((await plan()).blockers).toEqual([]);
    const audit = await suite.stack.database.selectFrom('audit_events').select(['action', 'reason']).where('target_id', '=', 'argo-cd/9.6.0').execute();
    expect(audit).toEqual([{ action: 'addon_version.create', reason: 'Argo CD 3.4 is tested on 1.36' }]);

    // One version of an add-on cannot take another tier than its others, nor move into kube-system.
    const badRow = {
      title: argo.title,
      tier: argo.tier,
      chart_repo: argo.chart_repo,
      chart: argo.chart,
      namespace: argo.namespace,
      min_minor: '1.34',
      max_minor: '1.36',
      settings_schema: argo.settings_schema as { type: 'object'; additionalProperties: false; properties: Record<string, Record<string, unknown>> },
      source: 'a source',
      reason: 'a bad row',
    };
    for (const [change, rule] of [
      [{ tier: 'default' }, 'one tier per add-on'],
      [{ namespace: 'kube-system' }, 'kube-system belongs to the distribution'],
    ] as const) {
      const refusedPut = await staff.PUT('/admin/v1/addon-versions/{name}/{version}', {
        params: { path: { name: 'argo-cd', version: '9.8.0' } },
        body: { ...badRow, ...change },
      });
      expect(refusedPut.response.status).toBe(422);
      expect(refusedPut.response.headers.get('content-type')).toContain('application/problem+json');
      expect(refusedPut.error).toMatchObject({ type: expect.stringContaining('addon-release-invalid'), rule });
    }
    expect(await suite.stack.database.selectFrom('addon_releases').select('version').where('version', '=', '9.8.0').execute()).toEqual([]);

    // A customer cannot edit the catalogue.
    const customerPut = await suite.client.PUT('/admin/v1/addon-versions/{name}/{version}', {
      params: { path: { name: 'argo-cd', version: '9.7.0' } },
      body: { ...put.data!, settings_schema: argo.settings_schema, reason: 'not staff', app_version: null } as never,
    });
    expect([401, 403]).toContain(customerPut.response.status);
  }, 300_000);

  it('validates settings against the schema (422 naming each violation), keeps other organisations out (404) and refuses unknown add-ons (404)', async () => {
    const clusterId = await suite.createCluster('gke', 'addons-rules', '1.35');
    const bad = await enable(clusterId, 'keda', { operator_replicas: 9, colour: 'blue' });
    expect(bad.response.status).toBe(422);
    expect(bad.response.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.error).toMatchObject({
      type: expect.stringContaining('addon-settings-invalid'),
      rule: "settings follow the add-on's schema",
      errors: expect.arrayContaining([expect.objectContaining({ field: 'settings.colour' }), expect.objectContaining({ field: 'settings.operator_replicas' })]),
    });
    const unknown = await enable(clusterId, 'mystery');
    expect(unknown.response.status).toBe(404);

    // Removing an add-on that was never enabled would start an operation that changes nothing.
    const neverEnabled = await suite.client.DELETE('/v1/clusters/{cluster_id}/addons/{name}', { params: { path: { cluster_id: clusterId, name: 'loki' } } });
    expect(neverEnabled.response.status).toBe(404);
    expect(neverEnabled.response.headers.get('content-type')).toContain('application/problem+json');
    expect(neverEnabled.error).toMatchObject({ type: expect.stringContaining('not-found'), detail: expect.stringContaining('loki is not enabled') });
    const operations = await suite.stack.database.selectFrom('operations').select('type').where('cluster_id', '=', clusterId).execute();
    expect(operations.map((o) => o.type)).toEqual(['create_cluster']);

    // another organisation's cluster is not found, whatever the route
    for (const res of [
      await other.GET('/v1/clusters/{cluster_id}/addons', { params: { path: { cluster_id: clusterId } } }),
      await enable(clusterId, 'keda', {}, other),
      await other.DELETE('/v1/clusters/{cluster_id}/addons/{name}', { params: { path: { cluster_id: clusterId, name: 'cert-manager' } } }),
    ])
      expect(res.response.status).toBe(404);
    const rows = await suite.stack.database.selectFrom('cluster_addons').select('name').where('cluster_id', '=', clusterId).execute();
    expect(rows).toEqual([]);
  }, 300_000);
});
