import { managedAddonsFor } from '@capstan/domain';
import type { ApiServerClient } from '@capstan/simulator';
import { CAPSTAN_NAMESPACE, CUSTOMER_ACCOUNT, TenantKube } from '../src';
import { type EmulatedClusters, eventually, startEmulatedClusters } from './emulated-cluster';

/**
 * What Capstan sets up inside a tenant cluster (baseline, add-ons) and the customer credentials it
 * hands out, against emulated RKE2 and GKE workload clusters; tokens are checked with the real kubectl.
 */
describe('TenantKube cluster setup', () => {
  let clusters: EmulatedClusters;

  beforeAll(async () => {
    clusters = await startEmulatedClusters();
  });
  afterAll(async () => {
    await clusters?.close();
  });

  const list = (server: ApiServerClient, apiVersion: string, kind: string, namespace?: string) =>
    server.list(apiVersion, kind, namespace ? { namespace } : {}).then((items) => items.map((i) => i.metadata.name).sort());

  describe('on RKE2', () => {
    const NAME = 'capstan-setup-rke2';
    let server: ApiServerClient;
    let kube: TenantKube;
    let adminToken: string;

    beforeAll(async () => {
      const cluster = await clusters.cluster(NAME, '1.31.4+rke2r1');
      server = cluster.server;
      adminToken = cluster.access.token;
      kube = new TenantKube(cluster.access);
    });

    it('applies the baseline, and applying it again changes nothing', async () => {
      const first = await kube.ensureBaseline();
      const snapshot = async () =>
        JSON.stringify(
          await Promise.all([
            server.get({ apiVersion: 'v1', kind: 'Namespace', name: CAPSTAN_NAMESPACE }),
            server.list('v1', 'ServiceAccount', { namespace: CAPSTAN_NAMESPACE, labelSelector: 'app.kubernetes.io/managed-by=capstan' }),
            server.list('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', { labelSelector: 'app.kubernetes.io/managed-by=capstan' }),
            server.list('networking.k8s.io/v1', 'NetworkPolicy', { namespace: CAPSTAN_NAMESPACE }),
          ]).then((objects) => objects.flat().map((o) => ({ ...o, metadata: { ...o!.metadata, resourceVersion: undefined, managedFields: undefined } }))),
        );
      const before = await snapshot();
      const second = await kube.ensureBaseline();
      expect(second).toEqual(first);
      expect(await snapshot()).toBe(before);

      const namespace = await server.get({ apiVersion: 'v1', kind: 'Namespace', name: CAPSTAN_NAMESPACE });
      expect(namespace?.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted', 'app.kubernetes.io/managed-by': 'capstan' });
      expect(await list(server, 'v1', 'ServiceAccount', CAPSTAN_NAMESPACE)).toEqual(expect.arrayContaining(['capstan-operator', CUSTOMER_ACCOUNT]));
      expect(await list(server, 'networking.k8s.io/v1', 'NetworkPolicy', CAPSTAN_NAMESPACE)).toEqual(['allow-same-namespace', 'default-deny-ingress']);
      const customer = await server.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', name: 'capstan-customer-admin' });
      expect(customer).toMatchObject({
        roleRef: { kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name: CUSTOMER_ACCOUNT, namespace: CAPSTAN_NAMESPACE }],
      });
      const operator = await server.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', name: 'capstan-operator' });
      expect(operator).toMatchObject({ roleRef: { kind: 'ClusterRole', name: 'capstan-operator' } });

      // customer namespaces: default deny with DNS allowed; system namespaces are left alone
      expect(await list(server, 'networking.k8s.io/v1', 'NetworkPolicy', 'default')).toEqual([
        'capstan-allow-dns',
        'capstan-allow-same-namespace',
        'capstan-default-deny',
      ]);
      expect(await list(server, 'networking.k8s.io/v1', 'NetworkPolicy', 'kube-system')).toEqual([]);
      const dns = await server.get({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: 'default', name: 'capstan-allow-dns' });
      expect(dns?.spec).toMatchObject({
        policyTypes: ['Egress'],
        egress: [
          {
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
        ],
      });
      expect(first.clusterAdminServiceAccounts).toEqual([]);

      // a customer's ServiceAccount bound to cluster-admin is reported (never silently kept)
      await server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
      await server.create({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'shop-admin' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: 'shop' }],
      });
      const third = await kube.ensureBaseline();
      expect(third.clusterAdminServiceAccounts).toEqual(['shop/deployer via shop-admin']);
      expect(third.applied).toContain('NetworkPolicy shop/capstan-default-deny');
    });

    it('installs the managed add-ons as HelmCharts once, leaves the bundled ones to RKE2, and moves a version in place', async () => {
      const addons = [...managedAddonsFor('1.31.4'), { name: 'keda', version: '2.18.1' }];
      const first = await kube.installAddons(addons);
      expect(first.bundled.sort()).toEqual(['cilium', 'coredns']);
      expect(first.deployedHelmController).toBe(false);
      expect(first.applied).toHaveLength(addons.length - 2);
      await kube.installAddons(addons);
      const charts = await server.list('helm.cattle.io/v1', 'HelmChart', { namespace: 'kube-system' });
      expect(charts.map((c) => c.metadata.name).sort()).toEqual(first.applied.map((name) => `capstan-${name}`).sort());

      // RKE2's helm-controller (emulated) runs the install job; the version is read back from the release's workloads.
      await eventually(async () => (await kube.listAddons()).find((a) => a.name === 'keda')?.installedVersion === '2.18.1', 'keda 2.18.1 to be installed');
      expect((await kube.listAddons()).find((a) => a.name === 'keda')).toMatchObject({ version: '2.18.1', state: 'installed', managedBy: 'capstan' });

      await kube.installAddons([{ name: 'keda', version: '2.19.0', values: { 'operator.replicaCount': 2 } }]);
      const keda = await server.get({ apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart', namespace: 'kube-system', name: 'capstan-keda' });
      expect(keda?.spec).toMatchObject({ chart: 'keda', version: '2.19.0', targetNamespace: 'keda', set: { 'operator.replicaCount': 2 } });
      expect((await server.list('helm.cattle.io/v1', 'HelmChart', { namespace: 'kube-system' })).length).toBe(charts.length);
      await eventually(async () => (await kube.listAddons()).find((a) => a.name === 'keda')?.installedVersion === '2.19.0', 'keda to move to 2.19.0');
      const workload = await server.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'keda', name: 'capstan-keda' });
      expect(workload?.metadata.labels).toMatchObject({ 'helm.sh/chart': 'keda-2.19.0', 'app.kubernetes.io/instance': 'capstan-keda' });

      const listed = await kube.listAddons();
      expect(listed.find((a) => a.name === 'cilium')).toMatchObject({ managedBy: 'distribution' });

      // Removing deletes the HelmChart; helm-controller uninstalls the release.
      expect(await kube.removeAddon('keda')).toEqual({ removed: true });
      expect(await kube.removeAddon('keda')).toEqual({ removed: false });
      await eventually(
        async () => (await server.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'keda', name: 'capstan-keda' })) === null,
        'the keda release to be uninstalled',
      );
      expect((await kube.listAddons()).find((a) => a.name === 'keda')).toBeUndefined();
    });

    it('refuses an add-on it has no chart for before writing anything', async () => {
      await expect(kube.installAddons([{ name: 'mystery', version: '1.0.0' }])).rejects.toMatchObject({ retryable: false, code: 'addon_unknown' });
    });

    it('issues customer tokens kubectl can use, and revocation ends every one of them', async () => {
      const credentials = await kube.issueCustomerCredentials(3600);
      expect(credentials.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3500_000);
      expect(credentials.tlsServerName).toBe(`${NAME}.${clusters.simulator.kube.kubeDomain}`);
      const second = await kube.issueCustomerCredentials(3600);
      for (const token of [credentials.token, second.token])
        expect(await clusters.kubectl(NAME, token, 'get', 'namespace', CAPSTAN_NAMESPACE, '-o', 'name')).toMatchObject({
          code: 0,
          stdout: `namespace/${CAPSTAN_NAMESPACE}\n`,
        });

      await kube.revokeCustomerCredentials();
      for (const token of [credentials.token, second.token])
        await eventually(async () => {
          const answer = await clusters.kubectl(NAME, token, 'get', 'namespace', CAPSTAN_NAMESPACE);
          return answer.code !== 0 && /Unauthorized|must be logged in/.test(answer.stderr);
        }, 'the revoked token to be refused');

      const fresh = await kube.issueCustomerCredentials(3600);
      expect(await clusters.kubectl(NAME, fresh.token, 'get', 'namespace', CAPSTAN_NAMESPACE, '-o', 'name')).toMatchObject({ code: 0 });
      // Capstan's own access is not a customer token and survives.
      expect(await clusters.kubectl(NAME, adminToken, 'get', 'namespace', CAPSTAN_NAMESPACE, '-o', 'name')).toMatchObject({ code: 0 });
    });

    it('refuses a customer token shorter than kube-apiserver allows', async () => {
      await expect(kube.issueCustomerCredentials(60)).rejects.toMatchObject({ retryable: false, code: 'kube_invalid' });
    });
  });

  describe('on GKE', () => {
    it('deploys helm-controller first, then the add-ons, and leaves Dataplane V2, kube-dns and the PD CSI driver to GKE', async () => {
      const cluster = await clusters.cluster('capstan-setup-gke', '1.33.5-gke.1201000', 'gke');
      const kube = new TenantKube(cluster.access);
      const addons = managedAddonsFor('1.33.5');
      const first = await kube.installAddons(addons);
      expect(first).toMatchObject({ deployedHelmController: true });
      expect(first.bundled.sort()).toEqual(['cilium', 'coredns', 'csi-driver']);
      expect(await cluster.server.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'kube-system', name: 'helm-controller' })).toMatchObject({
        spec: { template: { spec: { serviceAccountName: 'helm-controller' } } },
      });
      expect(await cluster.server.list('helm.cattle.io/v1', 'HelmChart', { namespace: 'kube-system' })).toHaveLength(addons.length - 3);

      const again = await kube.installAddons(addons);
      expect(again.deployedHelmController).toBe(false);
      expect(await cluster.server.list('helm.cattle.io/v1', 'HelmChart', { namespace: 'kube-system' })).toHaveLength(addons.length - 3);
      // The helm-controller Capstan deployed (emulated) installs them, as RKE2's does.
      await eventually(
        async () =>
          (await kube.listAddons()).filter((a) => a.managedBy === 'capstan').every((a) => a.state === 'installed' && a.installedVersion === a.version),
        'every add-on to be installed by helm-controller',
      );
      expect((await kube.listAddons()).filter((a) => a.managedBy === 'capstan').map((a) => a.name)).toEqual(first.applied.sort());
    });
  });
});
