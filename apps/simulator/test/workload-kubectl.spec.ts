import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'node:https';
import type { KubeObject } from '../src/kube/types';
import { startTestSimulator, type TestSimulator } from './harness';
import { type Kubectl, kubectlDir, kubectlWorkloadCluster, removeKubectlDir } from './kubectl-support';
import { eventually } from './workload-support';

/**
 * The real kubectl (1.32) against one emulated workload cluster with three Ready nodes: what a
 * customer does with the kubeconfig Capstan hands out, down to a drain blocked by a
 * PodDisruptionBudget until the budget is relaxed.
 */
describe('kubectl against an emulated workload cluster', () => {
  const NAME = 'capstan-kubectl-wl';
  let sim: TestSimulator;
  let dir: string;
  let kubectl: Kubectl;
  let adminToken: string;

  const webPods = async () =>
    (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'wide', '--no-headers')).stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(/\s+/))
      .map(([name, ready, status, restarts, age, ip, node]) => ({ name: name!, ready, status, restarts, age, ip: ip!, node: node! }));

  beforeAll(async () => {
    sim = await startTestSimulator();
    dir = await kubectlDir('capstan-wl-');
    const kube = sim.simulator.kube;
    const nodes = ['worker-a', 'worker-b', 'worker-c'];
    ({ kubectl, token: adminToken } = await kubectlWorkloadCluster(kube, NAME, dir, { version: '1.36.4+rke2r1', nodes }));
  });
  afterAll(async () => {
    await sim?.close();
    await removeKubectlDir(dir);
  });

  it('shows the kube-system pods a real RKE2 cluster runs', async () => {
    const pods = await eventually(async () => {
      const out = (await kubectl('get', 'pods', '-A', '--no-headers')).stdout;
      const lines = out.trim().split('\n');
      const count = (pattern: RegExp) => lines.filter((l) => pattern.test(l)).length;
      const complete =
        count(/^kube-system\s+cilium-[a-z0-9]{5}\s/) === 3 &&
        count(/^kube-system\s+rke2-coredns-rke2-coredns-[a-z0-9]+-[a-z0-9]{5}\s/) === 2 &&
        count(/^kube-system\s+rke2-metrics-server-/) === 1 &&
        count(/^kube-system\s+kube-proxy-worker-[abc]\s/) === 3;
      return complete && lines.every((l) => /\s1\/1\s+Running\s/.test(l)) && lines;
    }, 'kube-system pods Running');
    expect(pods.filter((l) => /^kube-system\s+cilium-[a-z0-9]{5}\s/.test(l))).toHaveLength(3);
    expect(pods.filter((l) => /^kube-system\s+rke2-coredns-rke2-coredns-[a-z0-9]+-[a-z0-9]{5}\s/.test(l))).toHaveLength(2);
    expect(pods.some((l) => /^kube-system\s+rke2-metrics-server-/.test(l))).toBe(true);
  });

  it('runs an applied Deployment on the nodes, and a PodDisruptionBudget blocks the drain until relaxed', async () => {
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
        '    spec: { containers: [ { name: web, image: "nginx:1.27" } ] }',
        '---',
        'apiVersion: policy/v1',
        'kind: PodDisruptionBudget',
        'metadata: { name: web, namespace: default }',
        'spec:',
        '  minAvailable: 3',
        '  selector: { matchLabels: { app: web } }',
        '',
      ].join('\n'),
    );
    expect(await kubectl('apply', '-f', manifest)).toMatchObject({ code: 0, stdout: 'deployment.apps/web created\npoddisruptionbudget.policy/web created\n' });
    expect(await kubectl('rollout', 'status', 'deployment/web', '--timeout=30s')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('successfully rolled out'),
    });

    const pods = await eventually(async () => {
      const now = await webPods();
      return now.length === 3 && now.every((p) => p.status === 'Running' && p.ready === '1/1') && now;
    }, 'web pods Running');
    for (const pod of pods) {
      expect(['worker-a', 'worker-b', 'worker-c']).toContain(pod.node);
      expect(pod.ip).toMatch(/^10\.42\.\d+\.\d+$/);
    }
    await eventually(
      async () => (await kubectl('get', 'pdb', 'web', '-o', 'jsonpath={.status.currentHealthy}/{.status.disruptionsAllowed}')).stdout === '3/0',
      'pdb sees 3 healthy pods and allows no disruption',
    );

    const node = pods[0]!.node;
    const blocked = await kubectl('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=15s');
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(blocked.stdout).toContain(`node/${node} cordoned`);

    // The Status body behind that message names the budget, as kube-apiserver's does.
    const eviction = await evict(adminToken, pods[0]!.name);
    expect(eviction.status).toBe(429);
    expect(eviction.body).toMatchObject({
      kind: 'Status',
      reason: 'TooManyRequests',
      code: 429,
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 3 healthy pods and has 3 currently' }] },
    });

    expect(await kubectl('patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":2}}')).toMatchObject({ code: 0 });
    const drained = await kubectl('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=30s');
    expect(drained).toMatchObject({ code: 0, stdout: expect.stringContaining(`node/${node} drained`) });
    expect(drained.stdout).toContain(`pod/${pods[0]!.name} evicted`);

    const after = await eventually(async () => {
      const now = await webPods();
      return now.length === 3 && now.every((p) => p.status === 'Running' && p.node !== node) && now;
    }, 'web back to 3 pods off the drained node');
    expect(after.map((p) => p.name)).not.toContain(pods[0]!.name);
    expect((await kubectl('get', 'node', node, '--no-headers')).stdout).toMatch(/Ready,SchedulingDisabled/);
    // Daemon pods stay on a drained node.
    expect(
      (await kubectl('get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=cilium', '--field-selector', `spec.nodeName=${node}`, '--no-headers')).stdout,
    ).toMatch(/Running/);

    expect(await kubectl('uncordon', node)).toMatchObject({ code: 0, stdout: `node/${node} uncordoned\n` });
    expect((await kubectl('get', 'node', node, '--no-headers')).stdout).toMatch(new RegExp(`^${node}\\s+Ready\\s`));
  });

  it('scales the Deployment with kubectl scale and restarts it with a rolling update', async () => {
    expect(await kubectl('scale', 'deployment/web', '--replicas=4')).toMatchObject({ code: 0, stdout: 'deployment.apps/web scaled\n' });
    await eventually(async () => (await webPods()).filter((p) => p.status === 'Running' && p.ready === '1/1').length === 4, '4 web pods');
    expect((await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}')).stdout).toBe('4');
    expect((await kubectl('scale', 'deployment/web', '--replicas=-1')).code).not.toBe(0);

    const before = new Set((await webPods()).map((p) => p.name));
    expect(await kubectl('rollout', 'restart', 'deployment/web')).toMatchObject({ code: 0 });
    expect(await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('successfully rolled out'),
    });
    const after = await eventually(async () => {
      const now = await webPods();
      return now.length === 4 && now.every((p) => p.status === 'Running' && !before.has(p.name)) && now;
    }, 'every web pod replaced');
    expect(after).toHaveLength(4);
    expect((await kubectl('rollout', 'history', 'deployment/web')).stdout).toMatch(/\n1\s.*\n2\s/s);
  });

  it('creates a ServiceAccount token that authenticates, and stops working once the account is deleted', async () => {
    const account = join(dir, 'deployer.yaml');
    await writeFile(account, 'apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: deployer, namespace: default }\n');
    expect(await kubectl('apply', '-f', account)).toMatchObject({ code: 0 });
    const created = await kubectl('create', 'token', 'deployer', '--duration=1h');
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token.length).toBeGreaterThan(20);
    const get = async () => (await kubectl('--token', token, 'get', 'ns', '-o', 'name')).code;
    expect(await get()).toBe(0);
    expect((await kubectl('create', 'token', 'deployer', '--duration=1m')).stderr).toContain('may not specify a duration less than 10 minutes');
    expect((await kubectl('create', 'token', 'nobody')).stderr).toContain('serviceaccounts "nobody" not found');
    expect(await kubectl('delete', 'serviceaccount', 'deployer')).toMatchObject({ code: 0 });
    await eventually(async () => (await get()) !== 0, 'token revoked');
  });

  it('answers what an outside reviewer tries first: whoami, can-i, health checks, OpenAPI v2, services, wide tables', async () => {
    // auth whoami / can-i are create-only reviews kubectl sends as protobuf; nothing is stored.
    expect(await kubectl('auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}')).toMatchObject({
      code: 0,
      stdout: 'capstan-admin ["system:masters","system:authenticated"]',
    });
    expect((await kubectl('auth', 'whoami', '--as', 'jane', '--as-group', 'devs', '-o', 'jsonpath={.status.userInfo}')).stdout).toBe(
      '{"groups":["devs","system:authenticated"],"username":"jane"}',
    );
    expect(await kubectl('auth', 'can-i', 'create', 'deployments', '-n', 'kube-system')).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await kubectl('auth', 'can-i', 'get', '/healthz')).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect((await kubectl('auth', 'can-i', '--list')).stdout).toMatch(/^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);
    expect((await kubectl('get', 'selfsubjectreviews')).stderr).toContain('(MethodNotAllowed)');

    const readyz = await kubectl('get', '--raw', '/readyz?verbose');
    expect(readyz.stdout).toMatch(/^\[\+\]ping ok\n(\[\+\][a-z/-]+ ok\n)+readyz check passed\n$/);
    expect(readyz.stdout).toContain('[+]etcd ok');
    expect((await kubectl('get', '--raw', '/livez/etcd')).stdout).toBe('ok');
    expect((await kubectl('get', '--raw', '/healthz/nope')).code).not.toBe(0);

    const v2 = JSON.parse((await kubectl('get', '--raw', '/openapi/v2')).stdout) as { swagger: string; definitions: Record<string, unknown> };
    expect(v2.swagger).toBe('2.0');
    expect(Object.keys(v2.definitions)).toEqual(expect.arrayContaining(['io.k8s.api.apps.v1.Deployment', 'io.k8s.api.core.v1.Pod']));
    expect((await kubectl('explain', 'pods', '--output=plaintext-openapiv2')).stderr).toContain('(NotAcceptable)');

    // Every cluster has kube-apiserver's own Service and the cluster DNS.
    expect((await kubectl('get', 'svc', '-A', '--no-headers')).stdout).toMatch(
      /^default\s+kubernetes\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+443\/TCP\s.*\nkube-system\s+rke2-coredns-rke2-coredns\s+ClusterIP\s+10\.43\.0\.10\s+<none>\s+53\/UDP,53\/TCP\s/s,
    );
    expect((await kubectl('cluster-info')).stdout).toContain('CoreDNS is running at');
    expect((await kubectl('get', 'nodes', '-o', 'wide')).stdout).toMatch(
      /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME\n/,
    );
    expect((await kubectl('get', 'ds', '-n', 'kube-system', 'cilium', '--no-headers')).stdout).toMatch(
      /^cilium\s+3\s+3\s+3\s+3\s+3\s+kubernetes\.io\/os=linux\s/,
    );
    expect((await kubectl('get', 'cm', 'kube-root-ca.crt', '--no-headers')).stdout).toMatch(/^kube-root-ca\.crt\s+1\s/);

    // kubectl's generators write these as protobuf.
    for (const args of [
      ['create', 'service', 'nodeport', 'judge-np', '--tcp=80:8080'],
      ['create', 'job', 'judge-job', '--image=busybox'],
      ['create', 'poddisruptionbudget', 'judge-pdb', '--selector=app=judge', '--min-available=50%'],
      ['create', 'role', 'judge-reader', '--verb=get,list', '--resource=pods,deployments.apps'],
      ['create', 'rolebinding', 'judge-reader', '--role=judge-reader', '--user=jane'],
      ['create', 'clusterrole', 'judge-viewer', '--verb=get', '--resource=nodes'],
      ['create', 'clusterrolebinding', 'judge-viewer', '--clusterrole=judge-viewer', '--serviceaccount=default:default'],
    ])
      expect(await kubectl(...args)).toMatchObject({ code: 0, stdout: expect.stringMatching(/ created\n$/) });
    expect((await kubectl('get', 'svc', 'judge-np', '--no-headers')).stdout).toMatch(/^judge-np\s+NodePort\s+10\.43\.\d+\.\d+\s+<none>\s+80:3\d{4}\/TCP\s/);
    expect(JSON.parse((await kubectl('get', 'role', 'judge-reader', '-o', 'jsonpath={.rules}')).stdout)).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
    ]);
    expect((await kubectl('get', 'rolebinding', 'judge-reader', '-o', 'jsonpath={.roleRef.kind}/{.roleRef.name} {.subjects[0].name}')).stdout).toBe(
      'Role/judge-reader jane',
    );
    expect((await kubectl('get', 'pdb', 'judge-pdb', '-o', 'jsonpath={.spec.minAvailable} {.spec.selector.matchLabels.app}')).stdout).toBe('50% judge');
    expect(
      (await kubectl('get', 'job', 'judge-job', '-o', 'jsonpath={.spec.template.spec.restartPolicy} {.spec.template.spec.containers[0].image}')).stdout,
    ).toBe('Never busybox');
    // What the emulator does not do says so in a Status.
    const pod = (await kubectl('get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=cilium', '-o', 'jsonpath={.items[0].metadata.name}')).stdout;
    expect((await kubectl('exec', '-n', 'kube-system', pod, '--', 'true')).stderr).toContain(
      'Error from server (MethodNotAllowed): pods/exec is not supported by this emulated API server',
    );
  });

  it('creates Services with their defaults, logs what a container emulates, and patches without echoing the object', async () => {
    expect(await kubectl('create', 'namespace', 'judge')).toMatchObject({ code: 0 });
    const manifest = join(dir, 'api.yaml');
    await writeFile(
      manifest,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: api, namespace: judge }',
        'spec:',
        '  replicas: 2',
        '  selector: { matchLabels: { app: api } }',
        '  template:',
        '    metadata: { labels: { app: api } }',
        '    spec: { containers: [ { name: api, image: "nginx:1.27" } ] }',
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: { name: api, namespace: judge }',
        'spec: { selector: { app: api }, ports: [ { port: 80 } ] }',
        '',
      ].join('\n'),
    );
    expect(await kubectl('apply', '-f', manifest)).toMatchObject({ code: 0 });
    expect((await kubectl('get', 'svc', 'api', '-n', 'judge', '-o', 'wide', '--no-headers')).stdout).toMatch(
      /^api\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+80\/TCP\s+\S+\s+app=api\n$/,
    );
    const service = JSON.parse((await kubectl('get', 'svc', 'api', '-n', 'judge', '-o', 'json')).stdout) as KubeObject;
    expect(service.spec).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] });
    expect(service.metadata.generation).toBeUndefined();
    // Re-applying keeps the allocated IP, and says so.
    expect((await kubectl('apply', '-f', manifest)).stdout).toContain('service/api unchanged');

    expect(await kubectl('rollout', 'status', 'deployment/api', '-n', 'judge', '--timeout=30s')).toMatchObject({ code: 0 });
    const logs = await kubectl('logs', 'deployment/api', '-n', 'judge', '--timestamps');
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z capstan-simulator: container api \(image nginx:1\.27\) started on node worker-[abc]; /,
    );
    expect((await kubectl('logs', 'deployment/api', '-n', 'judge', '--previous')).stderr).toContain(
      'Error from server (BadRequest): previous terminated container "api" in pod',
    );
    expect((await kubectl('get', 'deploy', 'api', '-n', 'judge', '-o', 'wide', '--no-headers')).stdout).toMatch(
      /^api\s+2\/2\s+2\s+2\s+\S+\s+api\s+nginx:1\.27\s+app=api\n$/,
    );

    expect(await kubectl('create', 'secret', 'generic', 'db', '-n', 'judge', '--from-literal=password=hunter2')).toMatchObject({ code: 0 });
    const failed = await kubectl('patch', 'secret', 'db', '-n', 'judge', '--type=json', '-p', '[{"op":"remove","path":"/data/nope"}]');
    expect(failed.stderr).toBe(
      'The request is invalid: jsonpatch remove operation does not apply: Cannot perform the operation at a path that does not exist (path /data/nope)\n',
    );
    expect(failed.stderr).not.toContain(Buffer.from('hunter2').toString('base64'));
  });

  it('rolls back to the old ReplicaSet, and finishes foreground deletions and the namespace', async () => {
    expect(await kubectl('set', 'image', 'deployment/api', '-n', 'judge', 'api=nginx:1.28')).toMatchObject({ code: 0 });
    expect(await kubectl('rollout', 'status', 'deployment/api', '-n', 'judge', '--timeout=30s')).toMatchObject({ code: 0 });
    expect(await kubectl('rollout', 'undo', 'deployment/api', '-n', 'judge')).toMatchObject({ code: 0 });
    expect(await kubectl('rollout', 'status', 'deployment/api', '-n', 'judge', '--timeout=30s')).toMatchObject({ code: 0 });
    // Revision 1 became revision 3: its ReplicaSet is used again, no third one is made.
    expect((await kubectl('rollout', 'history', 'deployment/api', '-n', 'judge')).stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
    expect((await kubectl('get', 'rs', '-n', 'judge', '-o', 'name')).stdout.trim().split('\n')).toHaveLength(2);

    // Orphaned ReplicaSets deleted in the foreground go once their pods have (the collector sees every pod's deletion).
    expect(await kubectl('delete', 'deployment', 'api', '-n', 'judge', '--cascade=orphan')).toMatchObject({ code: 0 });
    const foreground = await kubectl('delete', 'rs', '-n', 'judge', '-l', 'app=api', '--cascade=foreground', '--wait', '--timeout=30s');
    expect(foreground.code).toBe(0);
    expect((await kubectl('get', 'rs,pods', '-n', 'judge', '-o', 'name')).stdout).toBe('');
    expect(await kubectl('delete', 'namespace', 'judge', '--wait', '--timeout=30s')).toMatchObject({ code: 0 });
  });

  it('serves the other built-in kinds a 1.32 API server has: generators, tables, events, explain', async () => {
    // kubectl's generators send these as protobuf; the tables are kube-apiserver's columns.
    expect(await kubectl('create', 'cronjob', 'nightly', '--image=busybox', '--schedule=0 3 * * *', '--', 'date')).toMatchObject({
      code: 0,
      stdout: 'cronjob.batch/nightly created\n',
    });
    expect((await kubectl('get', 'cj', '-o', 'wide')).stdout).toMatch(
      /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\nnightly\s+0 3 \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\d+s\s+nightly\s+busybox\s+<none>\n$/,
    );
    expect(await kubectl('create', 'ingress', 'web', '--class=haproxy', '--rule=web.example.com/*=web:80,tls=web-tls')).toMatchObject({ code: 0 });
    expect((await kubectl('get', 'ing', 'web', '-o', 'jsonpath={.spec}')).stdout).toBe(
      '{"ingressClassName":"haproxy","rules":[{"host":"web.example.com","http":{"paths":[{"backend":{"service":{"name":"web","port":{"number":80}}},"path":"/","pathType":"Prefix"}]}}],"tls":[{"hosts":["web.example.com"],"secretName":"web-tls"}]}',
    );
    expect((await kubectl('get', 'ing', '--no-headers')).stdout).toMatch(/^web\s+haproxy\s+web\.example\.com\s+80, 443\s+\d+s\n$/);
    expect(await kubectl('create', 'quota', 'small', '--hard=pods=10,limits.memory=1Gi')).toMatchObject({ code: 0 });
    expect((await kubectl('get', 'quota', 'small', '-o', 'jsonpath={.spec.hard}')).stdout).toBe('{"limits.memory":"1Gi","pods":"10"}');
    // The quota controller's bookkeeping: hard and used (pods of earlier tests count).
    await eventually(async () => {
      const row = (await kubectl('get', 'quota', 'small', '--no-headers')).stdout;
      return /^small\s+\d+s\s+pods: \d+\/10\s+limits\.memory: 0\/1Gi\n$/.test(row) && row;
    }, 'the quota counts the pods');
    expect(await kubectl('create', 'priorityclass', 'high', '--value=1000', '--description=important')).toMatchObject({ code: 0 });
    // kube-apiserver's own two classes are there from the start.
    expect((await kubectl('get', 'pc')).stdout).toMatch(
      /^NAME\s+VALUE\s+GLOBAL-DEFAULT\s+AGE\s+PREEMPTIONPOLICY\nhigh\s+1000\s+false\s+\d+s\s+PreemptLowerPriority\nsystem-cluster-critical\s+2000000000\s+false\s+\S+\s+PreemptLowerPriority\nsystem-node-critical\s+2000001000\s/,
    );
    expect(await kubectl('create', 'deployment', 'scaled', '--image=nginx')).toMatchObject({ code: 0 });
    expect(await kubectl('autoscale', 'deployment', 'scaled', '--max=4', '--cpu-percent=60')).toMatchObject({ code: 0 });
    expect((await kubectl('get', 'hpa', 'scaled', '--no-headers')).stdout).toMatch(/^scaled\s+Deployment\/scaled\s+cpu: <unknown>\/60%\s+1\s+4\s+0\s+\d+s\n$/);
    await eventually(async () => {
      const row = (await kubectl('get', 'quota', 'small', '--no-headers')).stdout;
      return /\spods: [1-9]\d*\/10\s/.test(row) && row;
    }, "the quota counts the Deployment's pod");
    expect((await kubectl('get', 'all', '--no-headers', '-o', 'name')).stdout).toEqual(
      expect.stringContaining('horizontalpodautoscaler.autoscaling/scaled\ncronjob.batch/nightly\n'),
    );

    const uid = (await kubectl('create', 'configmap', 'noticed', '-o', 'jsonpath={.metadata.uid}')).stdout;
    const manifests = join(dir, 'kinds.yaml');
    await writeFile(
      manifests,
      [
        'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}\nprovisioner: pd.csi.storage.gke.io\nallowVolumeExpansion: true',
        'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {accessModes: [ReadWriteOnce], storageClassName: fast, resources: {requests: {storage: 1Gi}}}',
        'apiVersion: v1\nkind: LimitRange\nmetadata: {name: defaults}\nspec: {limits: [{type: Container, default: {cpu: 500m}}]}',
        'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: haproxy}\nspec: {controller: haproxy.org/ingress-controller/haproxy}',
        'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-abc, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nports: [{name: http, port: 80}]\nendpoints: [{addresses: [10.42.0.5]}, {addresses: [10.42.0.6]}]',
        'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: lock}\nspec: {holderIdentity: me}',
        `apiVersion: v1\nkind: Event\nmetadata: {name: noticed.1}\ninvolvedObject: {kind: ConfigMap, name: noticed, namespace: default, apiVersion: v1, uid: ${uid}}\nreason: Noticed\nmessage: seen twice\ntype: Warning\nsource: {component: tester}\nfirstTimestamp: "${new Date(Date.now() - 600_000).toISOString()}"\nlastTimestamp: "${new Date().toISOString()}"\ncount: 2`,
      ].join('\n---\n'),
    );
    expect(await kubectl('apply', '-f', manifests)).toMatchObject({ code: 0 });
    const tables = (await kubectl('get', 'sc,pvc,limits,ingressclass,endpointslices,leases')).stdout;
    for (const line of [
      /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE$/m,
      /^storageclass\.storage\.k8s\.io\/fast \(default\)\s+pd\.csi\.storage\.gke\.io\s+Delete\s+Immediate\s+true\s/m,
      // An Immediate class binds at once (a volume provisioned for it): Pending only for a moment.
      /^persistentvolumeclaim\/data\s+(Pending\s+fast|Bound\s+pvc-[0-9a-f-]+\s+1Gi\s+RWO\s+fast)\s+<unset>\s+\d+s$/m,
      /^limitrange\/defaults\s+\d{4}-\d\d-\d\dT/m,
      /^ingressclass\.networking\.k8s\.io\/haproxy\s+haproxy\.org\/ingress-controller\/haproxy\s+<none>\s/m,
      /^endpointslice\.discovery\.k8s\.io\/web-abc\s+IPv4\s+80\s+10\.42\.0\.5,10\.42\.0\.6\s/m,
      /^lease\.coordination\.k8s\.io\/lock\s+me\s/m,
    ])
      expect(tables).toMatch(line);
    expect((await kubectl('get', 'events', '--field-selector', 'reason=Noticed')).stdout).toMatch(
      /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n\d+s\s+Warning\s+Noticed\s+configmap\/noticed\s+seen twice\n$/,
    );
    expect((await kubectl('events', '--for', 'configmap/noticed')).stdout).toMatch(/Warning\s+Noticed\s+ConfigMap\/noticed\s+seen twice/);
    expect((await kubectl('describe', 'configmap', 'noticed')).stdout).toMatch(
      /Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n[\s-]+\n\s+Warning\s+Noticed\s.*tester\s+seen twice/,
    );
    expect((await kubectl('get', 'events.events.k8s.io')).stderr).toBe('No resources found in default namespace.\n');

    // The emulated scheduler and deployment controller record what they do.
    expect((await kubectl('describe', 'deployment', 'scaled')).stdout).toMatch(
      /Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set scaled-[a-z0-9]+ from 0 to 1/,
    );
    expect(
      (await kubectl('events', '--types', 'Normal', '--for', `pod/${(await kubectl('get', 'pods', '-l', 'app=scaled', '-o', 'name')).stdout.trim().slice(4)}`))
        .stdout,
    ).toMatch(/Normal\s+Scheduled\s+Pod\/scaled-[a-z0-9]+-[a-z0-9]{5}\s+Successfully assigned default\/scaled-[a-z0-9]+-[a-z0-9]{5} to worker-[abc]/);

    // kubectl explain walks upstream 1.32's schemas.
    expect((await kubectl('explain', 'deployment.spec.template')).stdout).toMatch(
      /FIELD: template <PodTemplateSpec>[\s\S]*FIELDS:\n\s+metadata\s+<ObjectMeta>[\s\S]*spec\s+<PodSpec>/,
    );
    expect((await kubectl('explain', 'pod.spec.containers', '--recursive')).stdout).toMatch(
      /^\s+ports\s+<\[\]ContainerPort>\n\s+containerPort\s+<integer> -required-$/m,
    );
    // Int-or-string and quantity fields are named by their type, as kube-apiserver's v3 documents make kubectl do.
    expect((await kubectl('explain', 'deployment.spec.strategy.rollingUpdate')).stdout).toMatch(
      /\n\s+maxSurge\t<IntOrString>\n[\s\S]*\n\s+maxUnavailable\t<IntOrString>\n/,
    );
    expect((await kubectl('explain', 'service.spec.ports.targetPort')).stdout).toMatch(/^FIELD: targetPort <IntOrString>$/m);
    expect((await kubectl('explain', 'pod.spec.containers.resources.limits')).stdout).toMatch(/^FIELD: limits <map\[string\]Quantity>$/m);
    expect((await kubectl('explain', 'ingress.spec')).stdout).toMatch(/ingressClassName\s+<string>[\s\S]*rules\s+<\[\]IngressRule>/);
    expect((await kubectl('explain', 'cronjob.spec.schedule')).stdout).toContain('The schedule in Cron format');
  });

  async function evict(token: string, pod: string): Promise<{ status: number; body: unknown }> {
    const url = new URL(`${sim.simulator.kube.url}/api/v1/namespaces/default/pods/${pod}/eviction`);
    const payload = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: 'default' } });
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          ca: sim.simulator.kube.caCertificatePem,
          servername: `${NAME}.${sim.simulator.kube.kubeDomain}`,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as unknown }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
});
