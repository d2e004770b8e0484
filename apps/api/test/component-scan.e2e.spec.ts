import { Metrics } from '@capstan/platform';
import { createCapstanClient } from '@capstan/sdk';
import { seedOrganization, seedStaff } from '@capstan/testing';
import { COMPONENT_SCAN_JOB, FLEET_QUEUE, ScanClusterComponents } from '@capstan/upgrades';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Client, DriverSuite, onDriverStack } from './driver-suite';

const DIGEST = 'sha256:e6439a12b52076965928e83b7b56aae6731231677b01e81818bce7fa5c60161a';

/**
 * What a cluster really runs (docs/upgrades.md, "What a cluster runs"): the component scan reads
 * every Deployment and DaemonSet of a tenant cluster on the emulators, recognises the ingress-nginx
 * controller by its image, and the advisories flag the cluster: CVE-2025-1974 for an affected
 * version, the retirement for any ingress-nginx. The customer sees their cluster's findings, staff
 * the fleet's, another tenant nothing; a cluster that cannot be read keeps its last findings with
 * their time; a removed controller is gone at the next scan.
 */
describe('the component scan and the advisories it feeds', () => {
  const suite = onDriverStack(new DriverSuite(), 'capstan-component-scan-');
  let scan: ScanClusterComponents;
  let staff: Client;
  let other: Client;
  let clusterId: string;
  let kubeconfig: string;

  beforeAll(async () => {
    scan = suite.stack.worker!.get(ScanClusterComponents);
    staff = createCapstanClient({ baseUrl: suite.stack.apiUrl, token: (await seedStaff(suite.stack.prisma)).token });
    other = createCapstanClient({ baseUrl: suite.stack.apiUrl, token: (await seedOrganization(suite.stack.prisma)).token });
    clusterId = await suite.createCluster('rke2', 'edge', '1.35', ['apps']);
    kubeconfig = await suite.kubeconfigOf(clusterId);
  }, 300_000);

  const customerAdvisories = async (client: Client = suite.client, query: { cluster_id?: string } = {}) => {
    const res = await client.GET('/v1/advisories', { params: { query } });
    expect(res.response.status).toBe(200);
    return res.data!.items;
  };
  const fleetAdvisories = async () => {
    const res = await staff.GET('/admin/v1/advisories', {});
    expect(res.response.status).toBe(200);
    return res.data!.items;
  };
  /** Advisory id -> the scan's findings on our cluster, as `namespace/workload version`. */
  const scanFindings = (items: Awaited<ReturnType<typeof customerAdvisories>>) =>
    Object.fromEntries(
      items
        .map((a) => [
          a.id,
          a.clusters
            .filter((c) => c.cluster_id === clusterId && c.source === 'scan')
            .map((c) => `${c.workload!.namespace}/${c.workload!.name} ${c.version ?? 'unknown'}`)
            .sort(),
        ])
        .filter(([, found]) => found!.length > 0),
    );

  it('runs once per period for the whole fleet: the worker declares its job scheduler on the fleet queue', async () => {
    const queue = suite.stack.worker!.get<Queue>(getQueueToken(FLEET_QUEUE));
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.find((s) => s.key === COMPONENT_SCAN_JOB)).toMatchObject({ name: COMPONENT_SCAN_JOB, every: 3_600_000 });
  });

  it('flags an affected ingress-nginx with CVE-2025-1974 and the retirement, a digest-only one as retired with version unknown', async () => {
    const manifest = join(suite.dir, 'ingress-nginx.yaml');
    await writeFile(
      manifest,
      [
        'apiVersion: v1',
        'kind: Namespace',
        'metadata: {name: ingress-nginx}',
        '---',
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}',
        'spec:',
        '  replicas: 1',
        '  selector: {matchLabels: {app: ingress-nginx}}',
        '  template:',
        '    metadata: {labels: {app: ingress-nginx}}',
        `    spec: {containers: [{name: controller, image: "registry.k8s.io/ingress-nginx/controller:v1.11.3@${DIGEST}"}]}`,
        '---',
        'apiVersion: apps/v1',
        'kind: DaemonSet',
        'metadata: {name: rke2-ingress-nginx-controller, namespace: ingress-nginx}',
        'spec:',
        '  selector: {matchLabels: {app: rke2-ingress-nginx}}',
        '  template:',
        '    metadata: {labels: {app: rke2-ingress-nginx}}',
        `    spec: {containers: [{name: controller, image: "rancher/nginx-ingress-controller@${DIGEST}"}]}`,
        '---',
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: web, namespace: default}',
        'spec:',
        '  replicas: 1',
        '  selector: {matchLabels: {app: web}}',
        '  template:',
        '    metadata: {labels: {app: web}}',
        '    spec: {containers: [{name: web, image: "nginx:1.29"}]}',
        '',
      ].join('\n'),
    );
    await suite.kubectl(kubeconfig, 'apply', '-f', manifest);
    // Before any scan nothing is known of it: Capstan's own inventory has no ingress-nginx.
    expect(scanFindings(await customerAdvisories())).toEqual({});

    const pass = await scan.pass();
    expect(pass.clusters[clusterId]).toBe('scanned');

    const mine = await customerAdvisories();
    expect(scanFindings(mine)).toEqual({
      'CVE-2025-1974': ['ingress-nginx/ingress-nginx-controller 1.11.3'],
      'RETIRED-ingress-nginx': ['ingress-nginx/ingress-nginx-controller 1.11.3', 'ingress-nginx/rke2-ingress-nginx-controller unknown'],
    });
    const cve = mine.find((a) => a.id === 'CVE-2025-1974')!;
    expect(cve).toMatchObject({ severity: 'critical', cvss: 9.8, fixed_in: ['1.11.5', '1.12.1'] });
    expect(cve.clusters.find((c) => c.cluster_id === clusterId)).toMatchObject({
      name: 'edge',
      component: 'ingress-nginx',
      version: '1.11.3',
      source: 'scan',
      workload: { kind: 'Deployment', namespace: 'ingress-nginx', name: 'ingress-nginx-controller', image: expect.stringContaining('v1.11.3@sha256:') },
      as_of: expect.any(String),
      last_scan_failed_at: null,
    });
    // The retirement points to the HAProxy ingress add-on.
    expect(mine.find((a) => a.id === 'RETIRED-ingress-nginx')!.remedy).toContain('HAProxy');
    // One cluster's advisories by its id: the same findings.
    expect(scanFindings(await customerAdvisories(suite.client, { cluster_id: clusterId }))).toEqual(scanFindings(mine));

    // Staff's fleet view names the cluster with its organisation.
    const fleet = await fleetAdvisories();
    expect(fleet.find((a) => a.id === 'CVE-2025-1974')!.clusters.filter((c) => c.cluster_id === clusterId)).toEqual([
      expect.objectContaining({ organization_id: suite.organizationId, version: '1.11.3', source: 'scan' }),
    ]);

    // Another tenant never sees it, not even by asking for the cluster's id.
    for (const items of [await customerAdvisories(other), await customerAdvisories(other, { cluster_id: clusterId })])
      expect(items.flatMap((a) => a.clusters.map((c) => c.cluster_id))).not.toContain(clusterId);
  }, 180_000);

  it('a fixed version (1.12.1) is flagged only as retired', async () => {
    await suite.kubectl(
      kubeconfig,
      'set',
      'image',
      '-n',
      'ingress-nginx',
      'deployment/ingress-nginx-controller',
      'controller=registry.k8s.io/ingress-nginx/controller:v1.12.1',
    );
    await scan.pass();
    expect(scanFindings(await customerAdvisories())).toEqual({
      'RETIRED-ingress-nginx': ['ingress-nginx/ingress-nginx-controller 1.12.1', 'ingress-nginx/rke2-ingress-nginx-controller unknown'],
    });
  }, 120_000);

  it('a cluster whose API server cannot be read keeps its last findings, as of the scan that read them', async () => {
    const before = (await customerAdvisories()).find((a) => a.id === 'RETIRED-ingress-nginx')!.clusters.find((c) => c.cluster_id === clusterId)!;
    const apiServer = async (state: 'down' | 'up') => {
      const res = await staff.POST('/admin/v1/simulator/clusters/{cluster_id}/api-server', {
        params: { path: { cluster_id: clusterId } },
        body: { state, reason: 'component scan test' },
      });
      expect(res.response.status).toBe(200);
    };
    const unreachable = async () =>
      (await suite.stack.worker!.get(Metrics).componentScans.get()).values.find((v) => v.labels.result === 'unreachable')?.value ?? 0;
    const counted = await unreachable();
    await apiServer('down');
    try {
      expect((await scan.pass()).clusters[clusterId]).toBe('unreachable');
      expect(await unreachable()).toBeGreaterThan(counted);
    } finally {
      await apiServer('up');
    }
    const after = (await customerAdvisories()).find((a) => a.id === 'RETIRED-ingress-nginx')!.clusters.find((c) => c.cluster_id === clusterId)!;
    expect(after).toMatchObject({ version: before.version, as_of: before.as_of, last_scan_failed_at: expect.any(String) });
    expect(new Date(after.last_scan_failed_at!).getTime()).toBeGreaterThanOrEqual(new Date(before.as_of!).getTime());

    // Read again: the failure is behind it.
    expect((await scan.pass()).clusters[clusterId]).toBe('scanned');
    const again = (await customerAdvisories()).find((a) => a.id === 'RETIRED-ingress-nginx')!.clusters.find((c) => c.cluster_id === clusterId)!;
    expect(again.last_scan_failed_at).toBeNull();
  }, 120_000);

  it('removing the controllers clears the findings at the next scan', async () => {
    await suite.kubectl(kubeconfig, 'delete', 'namespace', 'ingress-nginx', '--wait=false');
    await suite.kubectl(kubeconfig, 'delete', 'deployment', 'ingress-nginx-controller', '-n', 'ingress-nginx', '--ignore-not-found');
    await suite.kubectl(kubeconfig, 'delete', 'daemonset', 'rke2-ingress-nginx-controller', '-n', 'ingress-nginx', '--ignore-not-found');
    await scan.pass();
    expect(scanFindings(await customerAdvisories())).toEqual({});
    expect(scanFindings(await fleetAdvisories())).toEqual({});
  }, 120_000);

  it("judges the etcd RKE2 bundles at the cluster's version (3.6.14 on 1.33 to 1.36), so an etcd advisory finds the cluster", async () => {
    // A staff-written advisory (seeded false), as staff add one when etcd publishes a fix.
    await suite.stack.database
      .insertInto('advisories')
      .values({
        id: 'TEST-etcd',
        kind: 'vulnerability',
        component: 'etcd',
        title: 'a test advisory on etcd before 3.6.15',
        severity: 'high',
        cvss: 7.5,
        affected: JSON.stringify([{ introduced: '3.6.0', fixed: '3.6.15' }]),
        fixed_in: ['3.6.15'],
        remedy: 'upgrade',
        published_on: '2026-12-01',
        sources: ['test'],
        seeded: false,
        updated_at: new Date(),
      })
      .execute();
    try {
      const etcd = (await customerAdvisories()).find((a) => a.id === 'TEST-etcd');
      expect(etcd?.clusters.filter((c) => c.cluster_id === clusterId)).toEqual([
        expect.objectContaining({ component: 'etcd', version: '3.6.14', source: 'capstan', workload: null, as_of: null }),
      ]);
    } finally {
      await suite.stack.database.deleteFrom('advisories').where('id', '=', 'TEST-etcd').execute();
    }
  }, 60_000);
});
