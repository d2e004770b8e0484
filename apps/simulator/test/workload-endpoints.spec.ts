import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeObject, setNodeReady } from '../src/kube/controllers/workload';
import type { ApiServerClient, ChangeEvent, KubeObject } from '../src/kube/types';
import { startTestSimulator, type TestSimulator } from './harness';
import { adminKubectl, type Kubectl, kubectlDir, removeKubectlDir } from './kubectl-support';
import { eventually } from './workload-support';

interface SliceEndpoint {
  addresses: string[];
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean };
  nodeName?: string;
  targetRef?: { kind: string; name: string; namespace: string; uid: string };
}

/**
 * The endpoints and EndpointSlice controllers judged by the real kubectl: a Service's Endpoints
 * and slices follow its pods as they start, lose readiness, terminate and go; a Service without
 * selector gets none (until someone writes its Endpoints, which are then mirrored); and
 * `default/kubernetes` lists the API server. A step delay of one second lets a terminating pod
 * stay long enough to be seen as such.
 */
describe('Service endpoints on an emulated workload cluster (kubectl)', () => {
  const NAME = 'capstan-endpoints-wl';
  let sim: TestSimulator;
  let server: ApiServerClient;
  let dir: string;
  let kubectl: Kubectl;
  const slicesSeen: KubeObject[] = [];
  let unsubscribe: () => void = () => undefined;

  const json = async <T>(...args: string[]): Promise<T> => JSON.parse((await kubectl(...args, '-o', 'json')).stdout || 'null') as T;
  const webIPs = async () =>
    (await kubectl('get', 'pods', '-l', 'app=web', '--field-selector=status.phase=Running', '-o', 'jsonpath={range .items[*]}{.status.podIP} {end}')).stdout
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .sort();
  const webSlices = async () => (await json<{ items: KubeObject[] }>('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web')).items;

  beforeAll(async () => {
    sim = await startTestSimulator({ stepDelayMs: 1_000 });
    dir = await kubectlDir('capstan-ep-');
    const kube = sim.simulator.kube;
    unsubscribe = kube.onChange((event: ChangeEvent) => {
      if (event.server === NAME && event.object.kind === 'EndpointSlice') slicesSeen.push(event.object);
    });
    await kube.ensureApiServer({ name: NAME, role: 'workload', distribution: 'rke2', version: '1.32.4+rke2r1' });
    server = kube.server(NAME);
    await server.create(
      nodeObject({
        name: 'server-0',
        kubeletVersion: 'v1.32.4+rke2r1',
        internalIP: '10.0.9.10',
        labels: { 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/etcd': 'true', 'topology.kubernetes.io/zone': 'zone-a' },
      }),
    );
    for (const name of ['worker-a', 'worker-b'])
      await server.create(
        nodeObject({ name, kubeletVersion: 'v1.32.4+rke2r1', labels: { 'node-role.kubernetes.io/worker': 'true', 'topology.kubernetes.io/zone': 'zone-b' } }),
      );
    ({ kubectl } = await adminKubectl(kube, NAME, dir));
  });
  afterAll(async () => {
    unsubscribe();
    await sim?.close();
    await removeKubectlDir(dir);
  });

  it('lists the API server behind default/kubernetes, as Endpoints and as an EndpointSlice', async () => {
    const line = await eventually(async () => {
      const out = (await kubectl('get', 'endpoints', 'kubernetes', '--no-headers')).stdout;
      return /^kubernetes\s+10\.0\.9\.10:6443\s/.test(out) && out;
    }, 'kubernetes endpoints');
    expect(line).toMatch(/^kubernetes\s+10\.0\.9\.10:6443\s+\S+\n$/);
    const slice = await json<KubeObject>('get', 'endpointslice', 'kubernetes');
    expect(slice).toMatchObject({
      addressType: 'IPv4',
      metadata: { labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      endpoints: [{ addresses: ['10.0.9.10'], conditions: { ready: true } }],
      ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
    });
    expect((await kubectl('describe', 'service', 'kubernetes')).stdout).toMatch(/\nEndpoints:\s+10\.0\.9\.10:6443\n/);
    // The cluster DNS Service selects the coredns pods: it gets theirs on the dns ports.
    await eventually(
      async () =>
        /^rke2-coredns-rke2-coredns\s+10\.42\.\d+\.\d+:53,10\.42\.\d+\.\d+:53,10\.42\.\d+\.\d+:53 \+ 1 more\.\.\.\s/m.test(
          (await kubectl('get', 'ep', '-n', 'kube-system', '--no-headers')).stdout,
        ),
      'coredns endpoints (2 pods x 2 ports)',
    );
  });

  it('follows the pods of a Service through scaling, readiness and termination, resolving a named targetPort', async () => {
    const manifest = join(dir, 'web.yaml');
    await writeFile(
      manifest,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: web, namespace: default }',
        'spec:',
        '  replicas: 3',
        '  selector: { matchLabels: { app: web } }',
        '  template:',
        '    metadata: { labels: { app: web } }',
        '    spec:',
        '      terminationGracePeriodSeconds: 30',
        // Stays on a NotReady node (not Ready any more, but not evicted) so readiness can be seen to change.
        '      tolerations: [ { key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute } ]',
        '      containers: [ { name: web, image: "nginx:1.27", ports: [ { name: http, containerPort: 8080 } ] } ]',
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: { name: web, namespace: default, labels: { tier: front } }',
        'spec:',
        '  selector: { app: web }',
        '  ports: [ { port: 80, targetPort: http } ]',
        '',
      ].join('\n'),
    );
    expect(await kubectl('apply', '-f', manifest)).toMatchObject({ code: 0, stdout: 'deployment.apps/web created\nservice/web created\n' });
    expect(await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s')).toMatchObject({ code: 0 });

    const ips = await eventually(async () => {
      const now = await webIPs();
      return now.length === 3 && now;
    }, 'three web pod IPs');
    const expected = ips.map((ip) => `${ip}:8080`);
    const endpointsLine = await eventually(async () => {
      const out = (await kubectl('get', 'endpoints', 'web', '--no-headers')).stdout;
      return expected.every((e) => out.includes(e)) && out;
    }, 'web endpoints with all three pods');
    expect(endpointsLine).toMatch(/^web\s+10\.42\.\d+\.\d+:8080,10\.42\.\d+\.\d+:8080,10\.42\.\d+\.\d+:8080\s+\S+\n$/);

    const describe = (await kubectl('describe', 'service', 'web')).stdout;
    expect(describe).toMatch(/\nTargetPort:\s+http\/TCP\n/);
    expect(describe).toMatch(/\nEndpoints:\s+10\.42\.\d+\.\d+:8080,10\.42\.\d+\.\d+:8080,10\.42\.\d+\.\d+:8080\n/);

    const table = (await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '--no-headers')).stdout;
    expect(table).toMatch(/^web-[a-z0-9]{5}\s+IPv4\s+8080\s+10\.42\.\d+\.\d+,10\.42\.\d+\.\d+,10\.42\.\d+\.\d+\s+\S+\n$/);
    const [slice] = await webSlices();
    expect(slice).toMatchObject({
      addressType: 'IPv4',
      ports: [{ name: '', port: 8080, protocol: 'TCP' }],
      metadata: {
        generateName: 'web-',
        labels: { tier: 'front', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', controller: true, blockOwnerDeletion: true }],
      },
    });
    const endpoints = slice!['endpoints'] as SliceEndpoint[];
    expect(endpoints.map((e) => e.addresses[0]).sort()).toEqual(ips);
    for (const endpoint of endpoints) {
      expect(endpoint.conditions).toEqual({ ready: true, serving: true, terminating: false });
      expect(['worker-a', 'worker-b', 'server-0']).toContain(endpoint.nodeName);
      expect(endpoint.targetRef).toMatchObject({ kind: 'Pod', namespace: 'default', name: expect.stringMatching(/^web-/) });
      expect(endpoint).toHaveProperty('zone', endpoint.nodeName === 'server-0' ? 'zone-a' : 'zone-b');
    }

    // A node stops reporting: its pods stay (they tolerate it) but are no longer ready.
    const lost = endpoints[0]!.nodeName!;
    const onLost = endpoints.filter((e) => e.nodeName === lost).map((e) => e.addresses[0]!);
    await setNodeReady(server, lost, false);
    const ep = await eventually(async () => {
      const object = await json<{ subsets?: { addresses?: { ip: string }[]; notReadyAddresses?: { ip: string }[] }[] }>('get', 'endpoints', 'web');
      const notReady = (object.subsets ?? []).flatMap((s) => s.notReadyAddresses ?? []).map((a) => a.ip);
      return onLost.every((ip) => notReady.includes(ip)) && object;
    }, 'pods of the NotReady node under notReadyAddresses');
    expect((ep.subsets ?? []).flatMap((s) => s.addresses ?? []).map((a) => a.ip)).not.toContain(onLost[0]);
    const notReadySlice = (await webSlices())[0]!['endpoints'] as SliceEndpoint[];
    expect(notReadySlice.find((e) => e.addresses[0] === onLost[0])?.conditions).toEqual({ ready: false, serving: false, terminating: false });
    expect((await kubectl('get', 'endpoints', 'web', '--no-headers')).stdout).not.toContain(`${onLost[0]}:8080`);
    await setNodeReady(server, lost, true);
    await eventually(async () => ((await webSlices())[0]!['endpoints'] as SliceEndpoint[]).every((e) => e.conditions.ready), 'every endpoint ready again');

    // Scaling down: the pods being deleted show as terminating in the slice, then leave both.
    expect(await kubectl('scale', 'deployment/web', '--replicas=1')).toMatchObject({ code: 0 });
    const remaining = await eventually(async () => {
      const slices = await webSlices();
      const left = slices.flatMap((s) => (s['endpoints'] as SliceEndpoint[] | null) ?? []);
      return left.length === 1 && left;
    }, 'one endpoint left in the slice');
    expect(remaining[0]!.conditions).toEqual({ ready: true, serving: true, terminating: false });
    const terminatingSeen = slicesSeen.some((s) =>
      ((s['endpoints'] as SliceEndpoint[] | null) ?? []).some((e) => e.conditions.terminating === true && e.conditions.ready === false),
    );
    expect(terminatingSeen).toBe(true);
    expect((await kubectl('get', 'endpoints', 'web', '--no-headers')).stdout).toMatch(
      new RegExp(`^web\\s+${remaining[0]!.addresses[0]!.replace(/\./g, '\\.')}:8080\\s`),
    );

    // No pods at all: empty Endpoints and a placeholder slice.
    expect(await kubectl('scale', 'deployment/web', '--replicas=0')).toMatchObject({ code: 0 });
    await eventually(async () => /^web\s+<none>\s/.test((await kubectl('get', 'endpoints', 'web', '--no-headers')).stdout), 'web endpoints empty');
    await eventually(
      async () =>
        /^web-[a-z0-9]{5}\s+IPv4\s+<unset>\s+<unset>\s/.test(
          (await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '--no-headers')).stdout,
        ),
      'placeholder slice',
    );
    expect(await webSlices()).toHaveLength(1);
    expect((await kubectl('describe', 'service', 'web')).stdout).toMatch(/\nEndpoints:\s+(<none>)?\n/);

    // The Service goes: so do its Endpoints and slices.
    expect(await kubectl('delete', 'service', 'web')).toMatchObject({ code: 0 });
    await eventually(async () => (await kubectl('get', 'endpoints', 'web')).stderr.includes('endpoints "web" not found'), 'web endpoints gone');
    await eventually(async () => (await webSlices()).length === 0, 'web slices gone');
  });

  it('gives a Service without selector nothing, and mirrors Endpoints written for it into a slice', async () => {
    const manifest = join(dir, 'external.yaml');
    await writeFile(
      manifest,
      'apiVersion: v1\nkind: Service\nmetadata: { name: external, namespace: default }\nspec:\n  ports: [ { name: db, port: 5432 } ]\n',
    );
    expect(await kubectl('apply', '-f', manifest)).toMatchObject({ code: 0 });
    // A pass of the controllers over the namespace (a pod event) must leave it alone too.
    expect(await kubectl('run', 'probe', '--image=busybox', '--labels=app=probe')).toMatchObject({ code: 0 });
    await eventually(async () => /Running/.test((await kubectl('get', 'pod', 'probe', '--no-headers')).stdout), 'probe pod running');
    expect((await kubectl('get', 'endpoints', 'external')).stderr).toContain('endpoints "external" not found');
    expect((await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=external')).stderr).toContain('No resources found in default namespace.');

    const endpoints = join(dir, 'external-ep.yaml');
    await writeFile(
      endpoints,
      [
        'apiVersion: v1',
        'kind: Endpoints',
        'metadata: { name: external, namespace: default, labels: { owner: dba } }',
        'subsets:',
        '  - addresses: [ { ip: 192.168.10.5 }, { ip: 192.168.10.6 } ]',
        '    notReadyAddresses: [ { ip: 192.168.10.7 } ]',
        '    ports: [ { name: db, port: 5432, protocol: TCP } ]',
        '',
      ].join('\n'),
    );
    expect(await kubectl('apply', '-f', endpoints)).toMatchObject({ code: 0 });
    const table = await eventually(async () => {
      const out = (await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=external', '--no-headers')).stdout;
      return /^external-[a-z0-9]{5}\s+IPv4\s+5432\s+192\.168\.10\.5,192\.168\.10\.6,192\.168\.10\.7\s/.test(out) && out;
    }, 'mirrored slice');
    expect(table.trim().split('\n')).toHaveLength(1);
    const [mirrored] = (await json<{ items: KubeObject[] }>('get', 'endpointslices', '-l', 'kubernetes.io/service-name=external')).items;
    expect(mirrored).toMatchObject({
      metadata: {
        labels: { owner: 'dba', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' },
        ownerReferences: [{ kind: 'Endpoints', name: 'external', controller: true }],
      },
      ports: [{ name: 'db', port: 5432, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['192.168.10.5'], conditions: { ready: true } },
        { addresses: ['192.168.10.6'], conditions: { ready: true } },
        { addresses: ['192.168.10.7'], conditions: { ready: false } },
      ],
    });
    expect((await kubectl('describe', 'service', 'external')).stdout).toMatch(/\nEndpoints:\s+192\.168\.10\.5:5432,192\.168\.10\.6:5432\n/);

    expect(await kubectl('delete', 'endpoints', 'external')).toMatchObject({ code: 0 });
    await eventually(
      async () => (await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=external')).stderr.includes('No resources found'),
      'mirrored slice gone with its Endpoints',
    );
  });
});
