import type { ApiServerClient } from '@capstan/simulator';
import { TenantKube } from '../src';
import { type EmulatedClusters, startEmulatedClusters } from './emulated-cluster';

const DIGEST = 'sha256:e6439a12b52076965928e83b7b56aae6731231677b01e81818bce7fa5c60161a';

/**
 * The component scan's read of a tenant cluster (docs/upgrades.md, "What a cluster runs") against
 * an emulated RKE2 cluster: every Deployment and DaemonSet of every namespace, page by page, with
 * the ingress-nginx controllers recognised by image.
 */
describe('TenantKube workload scan', () => {
  let clusters: EmulatedClusters;
  let server: ApiServerClient;
  let kube: TenantKube;

  beforeAll(async () => {
    clusters = await startEmulatedClusters();
    const cluster = await clusters.cluster('capstan-workloads', '1.35.5+rke2r1');
    server = cluster.server;
    kube = new TenantKube(cluster.access);
  });
  afterAll(async () => {
    await clusters?.close();
  });

  const workload = (kind: 'Deployment' | 'DaemonSet', namespace: string, name: string, image: string) =>
    server.create({
      apiVersion: 'apps/v1',
      kind,
      metadata: { name, namespace },
      spec: {
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
      },
    });

  it('finds every ingress-nginx controller across namespaces and pages, with its version, and nothing else', async () => {
    for (const ns of ['edge', 'shop', 'tools']) await server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (let i = 0; i < 5; i++) await workload('Deployment', 'shop', `web-${i}`, 'nginx:1.29');
    await workload('Deployment', 'edge', 'ingress-nginx-controller', 'registry.k8s.io/ingress-nginx/controller:v1.11.3');
    await workload('Deployment', 'tools', 'f5-ingress', 'nginx/nginx-ingress:4.0.1');
    await workload('DaemonSet', 'kube-system', 'rke2-ingress-nginx-controller', `rancher/nginx-ingress-controller@${DIGEST}`);

    // Pages of 2: the scan follows `continue` through both kinds.
    const scan = await kube.scanWorkloads(2);
    expect(scan.workloads).toBe((await server.list('apps/v1', 'Deployment')).length + (await server.list('apps/v1', 'DaemonSet')).length);
    expect(scan.workloads).toBeGreaterThanOrEqual(8);
    expect(scan.components.map((c) => [c.workloadKind, `${c.namespace}/${c.workload}`, c.version])).toEqual([
      ['Deployment', 'edge/ingress-nginx-controller', '1.11.3'],
      ['DaemonSet', 'kube-system/rke2-ingress-nginx-controller', null],
    ]);
    // The default page size reads the same.
    expect((await kube.scanWorkloads()).components).toEqual(scan.components);
  });
});
