import { startTestSimulator, type TestSimulator } from './harness';
import { KubeApiError, type ChangeEvent, type KubeEmulator, type KubeObject } from '../src';

const configMap = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', labels },
  data,
});

async function rejection(promise: Promise<unknown>): Promise<KubeApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KubeApiError) return error;
    throw error;
  }
  throw new Error('expected a KubeApiError');
}

/** The in-process face of the emulator: what the emulated controllers use. */
describe('Kubernetes API emulator store', () => {
  let sim: TestSimulator;
  let kube: KubeEmulator;

  beforeAll(async () => {
    sim = await startTestSimulator();
    kube = sim.simulator.kube;
    await kube.ensureApiServer({ name: 'capstan-store', role: 'workload', distribution: 'rke2', version: '1.31.9+rke2r1' });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('creates with uid, resourceVersion and creationTimestamp, and refuses a taken name', async () => {
    const server = kube.server('capstan-store');
    const created = await server.create(configMap('one', { app: 'a' }));
    expect(created.metadata).toMatchObject({ name: 'one', namespace: 'default' });
    // As kube-apiserver: ConfigMaps have no generation (workloads and custom resources do).
    expect(created.metadata.generation).toBeUndefined();
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await server.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'one', namespace: 'default' })).toEqual(created);
    const taken = await rejection(server.create(configMap('one')));
    expect([taken.code, taken.reason]).toEqual([409, 'AlreadyExists']);
  });

  it('refuses an object in a namespace that does not exist', async () => {
    const error = await rejection(kube.server('capstan-store').create({ ...configMap('x'), metadata: { name: 'x', namespace: 'nowhere' } }));
    expect([error.code, error.message]).toEqual([404, 'namespaces "nowhere" not found']);
  });

  it('answers a stale resourceVersion with Conflict and keeps the newer write', async () => {
    const server = kube.server('capstan-store');
    const created = await server.create(configMap('race', {}, { v: '0' }));
    const first = await server.update({ ...created, data: { v: '1' } });
    expect(BigInt(first.metadata.resourceVersion!)).toBeGreaterThan(BigInt(created.metadata.resourceVersion!));
    const stale = await rejection(server.update({ ...created, data: { v: '2' } }));
    expect([stale.code, stale.reason]).toEqual([409, 'Conflict']);
    expect((await server.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'race', namespace: 'default' }))?.data).toEqual({ v: '1' });
  });

  it('selects by labels and fields', async () => {
    const server = kube.server('capstan-store');
    await server.create(configMap('sel-a', { tier: 'web', env: 'prod' }));
    await server.create(configMap('sel-b', { tier: 'db', env: 'prod' }));
    await server.create(configMap('sel-c', { tier: 'web' }));
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await server.list('v1', 'ConfigMap', { namespace: 'default', labelSelector, fieldSelector }))
        .map((o) => o.metadata.name)
        .filter((n) => n.startsWith('sel-'));
    expect(await names('tier=web')).toEqual(['sel-a', 'sel-c']);
    expect(await names('tier in (web,db),env')).toEqual(['sel-a', 'sel-b']);
    expect(await names('!env')).toEqual(['sel-c']);
    expect(await names('tier!=web')).toEqual(['sel-b']);
    expect(await names(undefined, 'metadata.name=sel-b')).toEqual(['sel-b']);
    expect((await rejection(names('a b c'))).code).toBe(400);
  });

  it('keeps status out of a spec update and spec out of a status update', async () => {
    const server = kube.server('capstan-store');
    const deployment = await server.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 1 },
      status: { replicas: 0 },
    });
    const scaled = await server.update({ ...deployment, spec: { replicas: 3 }, status: { replicas: 99 } });
    expect(scaled).toMatchObject({ spec: { replicas: 3 }, status: { replicas: 0 }, metadata: { generation: 2 } });
    const reported = await server.updateStatus({ ...scaled, spec: { replicas: 7 }, status: { replicas: 3 } });
    expect(reported).toMatchObject({ spec: { replicas: 3 }, status: { replicas: 3 }, metadata: { generation: 2 } });
    const patched = await server.mergePatch(
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'default' },
      { metadata: { labels: { a: 'b' } } },
    );
    expect(patched.metadata.labels).toEqual({ a: 'b' });
    expect(patched.metadata.generation).toBe(2);
  });

  it('holds an object with finalizers until the last is removed, telling listeners each step', async () => {
    const server = kube.server('capstan-store');
    const events: ChangeEvent[] = [];
    const stop = kube.onChange((event) => {
      if (event.server === 'capstan-store' && event.object.metadata.name === 'held') events.push(event);
    });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'held', namespace: 'default' };
    await server.create({ ...configMap('held'), metadata: { ...configMap('held').metadata, finalizers: ['capstan.io/keep'] } });
    await server.delete(ref);
    const marked = await server.get(ref);
    expect(marked?.metadata.deletionTimestamp).toBeDefined();
    await server.mergePatch(ref, { metadata: { finalizers: null } });
    expect(await server.get(ref)).toBeNull();
    stop();
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  });

  it('serves flowcontrol v1beta3 up to 1.31 and not from 1.32, as the removed-API table says', async () => {
    const server = kube.server('capstan-store');
    const flowSchema = (apiVersion: string, name: string): KubeObject => ({ apiVersion, kind: 'FlowSchema', metadata: { name }, spec: {} });
    await server.create(flowSchema('flowcontrol.apiserver.k8s.io/v1beta3', 'legacy'));
    expect((await server.list('flowcontrol.apiserver.k8s.io/v1', 'FlowSchema')).map((o) => o.metadata.name)).toEqual(['legacy']);
    await kube.updateApiServer('capstan-store', { version: '1.32.4+rke2r1' });
    expect((await rejection(server.list('flowcontrol.apiserver.k8s.io/v1beta3', 'FlowSchema'))).code).toBe(404);
    expect((await server.list('flowcontrol.apiserver.k8s.io/v1', 'FlowSchema'))[0]).toMatchObject({
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      metadata: { name: 'legacy' },
    });
    await kube.updateApiServer('capstan-store', { version: '1.31.9+rke2r1' });
  });

  it('serves the kinds of a CustomResourceDefinition once it is created', async () => {
    const server = kube.server('capstan-store');
    const widget = { apiVersion: 'example.capstan.io/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'default' }, spec: { size: 2 } };
    expect((await rejection(server.create(widget))).code).toBe(404);
    await server.create({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.capstan.io' },
      spec: {
        group: 'example.capstan.io',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } } } },
            subresources: { status: {} },
          },
        ],
      },
    });
    // Fields the schema does not know are pruned; values it forbids are Invalid.
    expect(await server.create({ ...widget, spec: { size: 2, colour: 'red' } })).toMatchObject({ kind: 'Widget', spec: { size: 2 } });
    expect((await server.get({ apiVersion: widget.apiVersion, kind: 'Widget', name: 'w1', namespace: 'default' }))?.spec).toEqual({ size: 2 });
    const invalid = await rejection(server.create({ ...widget, metadata: { name: 'w2', namespace: 'default' }, spec: { size: 0 } }));
    expect([invalid.code, invalid.reason]).toEqual([422, 'Invalid']);
  });

  it('authenticates issued tokens until they are revoked', async () => {
    const { token } = await kube.issueToken('capstan-store', { subject: 'someone', ttlSeconds: 60 });
    const path = '/api/v1/namespaces';
    const servername = 'capstan-store.clusters.simulator.capstan.test';
    expect((await sim.kube(sim.simulator.kubeUrl, path, token, servername)).status).toBe(200);
    await kube.revokeTokens('capstan-store', 'someone');
    const refused = await sim.kube(sim.simulator.kubeUrl, path, token, servername);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('answers 503 on every path but the health checks while the API server is not serving', async () => {
    const servername = 'capstan-store.clusters.simulator.capstan.test';
    const { token } = await kube.issueToken('capstan-store', { subject: 'probe', ttlSeconds: null });
    await kube.updateApiServer('capstan-store', { serving: false });
    expect((await sim.kube(sim.simulator.kubeUrl, '/readyz', undefined, servername)).status).toBe(503);
    expect((await sim.kube(sim.simulator.kubeUrl, '/api/v1/namespaces', token, servername)).status).toBe(503);
    await kube.updateApiServer('capstan-store', { serving: true });
    expect(await sim.kube(sim.simulator.kubeUrl, '/readyz', undefined, servername)).toEqual({ status: 200, body: 'ok' });
    expect(JSON.parse((await sim.kube(sim.simulator.kubeUrl, '/version', token, servername)).body)).toMatchObject({ gitVersion: 'v1.31.9+rke2r1' });
  });
});
