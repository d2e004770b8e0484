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
});
