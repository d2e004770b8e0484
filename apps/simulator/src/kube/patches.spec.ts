import { parseFieldSelector, parseLabelSelector } from './selectors';
import { recordUpdate, serverSideApply } from './server-side-apply';
import { applyStrategicMergePatch } from './strategic-merge';
import { KubeApiError, type KubeObject } from './types';

const pod = (labels: Record<string, string>, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', labels },
  ...extra,
});

describe('strategic merge patch', () => {
  const original = {
    spec: {
      containers: [
        { name: 'app', image: 'a:1', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }] },
        { name: 'side', image: 's:1' },
      ],
      tolerations: [{ key: 'x' }],
    },
    metadata: { finalizers: ['one'] },
  };

  it('merges lists by their merge key and replaces lists that have none', () => {
    const patched = applyStrategicMergePatch(original, {
      spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 443 }] }], tolerations: [{ key: 'y' }] },
    }) as typeof original;
    expect(patched.spec.containers[0]).toEqual({
      name: 'app',
      image: 'a:1',
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
      ports: [{ containerPort: 80 }, { containerPort: 443 }],
    });
    expect(patched.spec.containers[1]).toEqual({ name: 'side', image: 's:1' });
    expect(patched.spec.tolerations).toEqual([{ key: 'y' }]);
  });

  it('honours $patch delete and replace, $deleteFromPrimitiveList and null', () => {
    const patched = applyStrategicMergePatch(original, {
      spec: { containers: [{ name: 'side', $patch: 'delete' }] },
      metadata: { finalizers: ['two'], '$deleteFromPrimitiveList/finalizers': ['one'] },
    }) as typeof original;
    expect(patched.spec.containers.map((c) => c.name)).toEqual(['app']);
    expect(patched.metadata.finalizers).toEqual(['two']);
    const replaced = applyStrategicMergePatch(original, { spec: { containers: [{ name: 'only', image: 'o' }, { $patch: 'replace' }], tolerations: null } }) as {
      spec: Record<string, unknown>;
    };
    expect(replaced.spec).toEqual({ containers: [{ name: 'only', image: 'o' }] });
  });

  it('refuses a list element without its merge key', () => {
    expect(() => applyStrategicMergePatch(original, { spec: { containers: [{ image: 'x' }] } })).toThrow(KubeApiError);
  });
});

describe('server-side apply (simplified)', () => {
  const config = (data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });

  it('removes what the manager applied before and no longer applies, keeping what others set', () => {
    const first = serverSideApply(null, config({ a: '1', b: '2' }), 'me', false, 'v1', 't0');
    const withOther = { ...first, data: { ...(first.data as object), c: '3' } } as KubeObject;
    const second = serverSideApply(withOther, config({ a: '1' }), 'me', false, 'v1', 't1');
    expect(second.data).toEqual({ a: '1', c: '3' });
    expect(second.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'me', operation: 'Apply', fieldsV1: { 'f:data': { 'f:a': {} } } })]);
  });

  it('reports a conflict with another applying manager unless forced, then takes the field over', () => {
    const mine = serverSideApply(null, config({ a: '1' }), 'me', false, 'v1', 't0');
    expect(() => serverSideApply(mine, config({ a: '2' }), 'you', false, 'v1', 't1')).toThrow(/conflict with "me": \.data\.a/);
    const forced = serverSideApply(mine, config({ a: '2' }), 'you', true, 'v1', 't1');
    expect(forced.data).toEqual({ a: '2' });
    expect((forced.metadata.managedFields as { manager: string }[]).map((m) => m.manager)).toEqual(['you']);
    // Same value: shared ownership, no conflict.
    expect(serverSideApply(mine, config({ a: '1' }), 'you', false, 'v1', 't1').metadata.managedFields).toHaveLength(2);
  });

  it('records an updater as owning what it set or changed, taken from other managers, and an apply over it conflicts naming its version', () => {
    const created = recordUpdate(null, config({ a: '1', b: '2' }), 'kubectl-create', 'v1', 't0');
    expect(created.metadata.managedFields).toEqual([
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        time: 't0',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} } },
      },
    ]);
    // Nothing changed: the entries (and their times) stay, so the write is a no-op.
    expect(recordUpdate(created, { ...created }, 'kubectl-edit', 'v1', 't1')).toEqual(created);

    const edited = recordUpdate(created, { ...created, data: { a: '9' } }, 'kubectl-edit', 'v1', 't1');
    expect(edited.metadata.managedFields).toEqual([
      { manager: 'kubectl-edit', operation: 'Update', apiVersion: 'v1', time: 't1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } },
    ]);
    expect(() => serverSideApply(edited, config({ a: '2' }), 'kubectl', false, 'v1', 't2')).toThrow(
      'Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.a',
    );
    expect(serverSideApply(edited, config({ a: '9' }), 'kubectl', false, 'v1', 't2').metadata.managedFields).toHaveLength(2);
  });

  const deployment = (replicas: number, image = 'nginx', status?: Record<string, unknown>): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas, template: { spec: { containers: [{ name: 'web', image }] } } },
    ...(status ? { status } : {}),
  });

  it('records a scale write as its manager’s entry with subresource scale, which an apply of another replica count conflicts with', () => {
    const applied = serverSideApply(null, deployment(2), 'kubectl', false, 'apps/v1', 't0');
    const scaled = recordUpdate(applied, { ...applied, spec: { ...applied.spec, replicas: 3 } }, 'kubectl', 'apps/v1', 't1', 'scale');
    expect(scaled.metadata.managedFields).toEqual([
      expect.objectContaining({ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': {} } } } } }),
      {
        manager: 'kubectl',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: 't1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:replicas': {} } },
        subresource: 'scale',
      },
    ]);
    expect(() => serverSideApply(scaled, deployment(4), 'kubectl', false, 'apps/v1', 't2')).toThrow(
      'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas',
    );
    // Several conflicts are grouped by manager, as kube-apiserver words them.
    const edited = recordUpdate(
      scaled,
      { ...scaled, spec: { ...(scaled.spec as object), template: { spec: { containers: [] } } } },
      'kubectl-edit',
      'apps/v1',
      't3',
    );
    expect(() => serverSideApply(edited, deployment(4, 'httpd'), 'kubectl', false, 'apps/v1', 't4')).toThrow(
      'Apply failed with 2 conflicts: conflicts with "kubectl" with subresource "scale" using apps/v1:\n- .spec.replicas\n' +
        'conflicts with "kubectl-edit" using apps/v1:\n- .spec.template.spec.containers',
    );
  });

  it('records a status write under subresource status owning only status fields, leaving the spec’s owners alone', () => {
    const applied = serverSideApply(null, deployment(2), 'kubectl', false, 'apps/v1', 't0');
    const reported = recordUpdate(applied, { ...applied, status: { replicas: 2, readyReplicas: 1 } }, 'kube-controller-manager', 'apps/v1', 't1', 'status');
    expect(reported.metadata.managedFields).toEqual([
      applied.metadata.managedFields![0],
      {
        manager: 'kube-controller-manager',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: 't1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } },
        subresource: 'status',
      },
    ]);
    // A later status write keeps its own entry; a spec write by the same manager is another entry.
    const again = recordUpdate(reported, { ...reported, status: { replicas: 2, readyReplicas: 2 } }, 'kube-controller-manager', 'apps/v1', 't2', 'status');
    expect(again.metadata.managedFields).toHaveLength(2);
    expect(serverSideApply(again, deployment(2), 'kubectl', false, 'apps/v1', 't3').metadata.managedFields).toHaveLength(2);
  });
});

describe('selectors', () => {
  it('matches set-based and equality label requirements', () => {
    const match = parseLabelSelector('env in (prod, staging),tier!=db,!legacy,app');
    expect(match(pod({ env: 'prod', tier: 'web', app: 'x' }))).toBe(true);
    expect(match(pod({ env: 'dev', tier: 'web', app: 'x' }))).toBe(false);
    expect(match(pod({ env: 'prod', tier: 'db', app: 'x' }))).toBe(false);
    expect(match(pod({ env: 'prod', app: 'x', legacy: 'yes' }))).toBe(false);
    expect(match(pod({ env: 'prod' }))).toBe(false);
  });

  it('selects pods by node and phase, and refuses unknown fields', () => {
    const match = parseFieldSelector('spec.nodeName=n1,status.phase!=Succeeded', 'Pod');
    expect(match(pod({}, { spec: { nodeName: 'n1' }, status: { phase: 'Running' } }))).toBe(true);
    expect(match(pod({}, { spec: { nodeName: 'n2' }, status: { phase: 'Running' } }))).toBe(false);
    expect(match(pod({}, { spec: { nodeName: 'n1' }, status: { phase: 'Succeeded' } }))).toBe(false);
    expect(() => parseFieldSelector('spec.nodeName=n1', 'ConfigMap')).toThrow(/not a known field selector/);
  });
});
