import { builtInResources, ResourceIndex } from './resources';
import { toTable } from './table';
import type { KubeObject } from './types';

/** kube-apiserver's printer columns for the kinds kubectl users list most (pkg/printers upstream). */
describe('Table answers', () => {
  const index = new ResourceIndex(builtInResources({ distribution: 'rke2', version: '1.32.4+rke2r1' }));
  const table = (apiVersion: string, kind: string, object: Partial<KubeObject>) =>
    toTable(
      index.byKind(apiVersion, kind)!,
      [{ apiVersion, kind, metadata: { name: 'x', creationTimestamp: '2026-01-01T00:00:00Z' }, ...object } as KubeObject],
      '1',
    ) as {
      columnDefinitions: { name: string; priority: number }[];
      rows: { cells: unknown[] }[];
    };
  const shown = (t: ReturnType<typeof table>, wide = false) =>
    Object.fromEntries(
      t.columnDefinitions.map((c, i) => [c.name, c.priority === 0 || wide ? t.rows[0]!.cells[i] : undefined]).filter(([, v]) => v !== undefined),
    );

  it('shows a CRD with its creation time, a ConfigMap and a Secret with their data counts', () => {
    expect(shown(table('apiextensions.k8s.io/v1', 'CustomResourceDefinition', {}))).toEqual({ Name: 'x', 'Created At': '2026-01-01T00:00:00Z' });
    expect(shown(table('v1', 'ConfigMap', { data: { a: '1' }, binaryData: { b: 'AA==' } }))).toMatchObject({ Name: 'x', Data: 2 });
    expect(shown(table('v1', 'Secret', { type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } }))).toMatchObject({
      Type: 'kubernetes.io/tls',
      Data: 2,
    });
  });

  it('shows a LoadBalancer Service pending its address, with node ports, and its selector only wide', () => {
    const service = table('v1', 'Service', {
      spec: { type: 'LoadBalancer', clusterIP: '10.43.0.7', ports: [{ port: 443, nodePort: 30443, protocol: 'TCP' }], selector: { app: 'web' } },
    });
    expect(shown(service)).toMatchObject({ Type: 'LoadBalancer', 'Cluster-IP': '10.43.0.7', 'External-IP': '<pending>', 'Port(s)': '443:30443/TCP' });
    expect(shown(service).Selector).toBeUndefined();
    expect(shown(service, true).Selector).toBe('app=web');
  });

  it('shows an events.k8s.io Event by what it regards, and a quota split into requests and limits', () => {
    const event = table('events.k8s.io/v1', 'Event', {
      regarding: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' },
      note: 'pulled',
      reason: 'Pulled',
      type: 'Normal',
      reportingController: 'kubelet',
      deprecatedCount: 3,
      eventTime: '2026-01-01T00:00:00.000000Z',
    });
    expect(event.columnDefinitions[0]!.name).toBe('Last Seen');
    expect(shown(event, true)).toMatchObject({ Object: 'pod/web-1', Subobject: 'spec.containers{web}', Source: 'kubelet', Message: 'pulled', Count: '3' });
    const quota = table('v1', 'ResourceQuota', { status: { hard: { pods: '10', 'limits.cpu': '2', cpu: '1' }, used: { pods: '3', cpu: '500m' } } });
    expect(shown(quota)).toMatchObject({ Request: 'cpu: 500m/1, pods: 3/10', Limit: 'limits.cpu: 0/2' });
  });

  it('marks the default StorageClass, and gives an HPA without metrics the default CPU target', () => {
    const sc = table('storage.k8s.io/v1', 'StorageClass', {
      metadata: { name: 'fast', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'pd.csi.storage.gke.io',
    });
    expect(shown(sc)).toMatchObject({ Name: 'fast (default)', ReclaimPolicy: 'Delete', VolumeBindingMode: 'Immediate', AllowVolumeExpansion: 'false' });
    const hpa = table('autoscaling/v2', 'HorizontalPodAutoscaler', { spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 3 } });
    expect(shown(hpa)).toMatchObject({ Reference: 'Deployment/web', Targets: 'cpu: <unknown>/80%', MinPods: '<unset>', MaxPods: 3 });
  });
});
