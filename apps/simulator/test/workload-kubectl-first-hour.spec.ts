import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestSimulator, type TestSimulator } from './harness';
import { applyManifest, type Kubectl, kubectlDir, kubectlWorkloadCluster, removeKubectlDir } from './kubectl-support';
import { eventually } from './workload-support';

const deploymentYaml = (namespace: string, image: string) =>
  [
    'apiVersion: apps/v1',
    'kind: Deployment',
    `metadata: { name: web, namespace: ${namespace} }`,
    'spec:',
    '  replicas: 2',
    '  selector: { matchLabels: { app: web } }',
    '  template:',
    '    metadata: { labels: { app: web } }',
    `    spec: { containers: [ { name: web, image: "${image}" } ] }`,
    '',
  ].join('\n');

const configMapYaml = (data: string) =>
  ['apiVersion: v1', 'kind: ConfigMap', 'metadata: { name: settings, namespace: default }', `data: ${data}`, ''].join('\n');

/**
 * What a customer runs in the first hour on a fresh cluster, judged by the real kubectl 1.32
 * against the emulated workload API server: rollout history with change causes, diffs that are
 * empty when nothing would change, and a namespace deleted through Terminating.
 */
// Each case runs several kubectl processes and waits for rollouts: beside CPU burners one took
// over the 30 s default.
jest.setTimeout(120_000);

describe('kubectl in a customer’s first hour on an emulated workload cluster', () => {
  const NAME = 'capstan-first-hour';
  let sim: TestSimulator;
  let dir: string;
  let kubectl: Kubectl;

  beforeAll(async () => {
    sim = await startTestSimulator();
    dir = await kubectlDir('capstan-first-hour-');
    ({ kubectl } = await kubectlWorkloadCluster(sim.simulator.kube, NAME, dir));
  });
  afterAll(async () => {
    await sim?.close();
    await removeKubectlDir(dir);
  });

  it('shows the change cause of each revision in rollout history, annotated after the rollout began too', async () => {
    expect(await applyManifest(kubectl, dir, 'history', deploymentYaml('default', 'nginx:1.27'))).toMatchObject({ code: 0 });
    expect(await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s')).toMatchObject({ code: 0 });
    expect(await kubectl('set', 'image', 'deployment/web', 'web=nginx:1.28')).toMatchObject({ code: 0, stdout: 'deployment.apps/web image updated\n' });
    expect(await kubectl('annotate', 'deployment/web', 'kubernetes.io/change-cause=upgrade to nginx 1.28')).toMatchObject({ code: 0 });
    expect(await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s')).toMatchObject({ code: 0 });

    const history = await eventually(async () => {
      const out = (await kubectl('rollout', 'history', 'deployment/web')).stdout;
      return /^2\s+upgrade to nginx 1\.28$/m.test(out) && out;
    }, 'revision 2 with its change cause');
    expect(history).toMatch(/^REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+upgrade to nginx 1\.28\n/m);

    // kubectl's undo replaces the Deployment's annotations with the old ReplicaSet's, so the cause goes.
    expect(await kubectl('rollout', 'undo', 'deployment/web')).toMatchObject({ code: 0, stdout: 'deployment.apps/web rolled back\n' });
    expect(await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s')).toMatchObject({ code: 0 });
    expect((await kubectl('rollout', 'history', 'deployment/web')).stdout).toMatch(/^REVISION\s+CHANGE-CAUSE\n2\s+upgrade to nginx 1\.28\n3\s+<none>\n/m);
    const reused = await kubectl(
      'get',
      'rs',
      '-l',
      'app=web',
      '-o',
      'jsonpath={range .items[*]}{.metadata.annotations.deployment\\.kubernetes\\.io/revision}:{.metadata.annotations.deployment\\.kubernetes\\.io/revision-history}{"\\n"}{end}',
    );
    expect(reused.stdout.trim().split('\n').sort()).toEqual(['2:', '3:1']);
    expect(await kubectl('rollout', 'undo', 'deployment/web', '--to-revision=9')).toMatchObject({
      code: 1,
      stderr: 'error: unable to find specified revision 9 in history\n',
    });
  });

  it('diffs nothing (exit 0) against what was just applied, client- and server-side, and only the change otherwise (exit 1)', async () => {
    expect(await applyManifest(kubectl, dir, 'settings', configMapYaml('{ a: "1", b: "2" }'))).toMatchObject({ code: 0 });
    const same = join(dir, 'settings.yaml');
    expect(await kubectl('diff', '-f', same)).toMatchObject({ code: 0, stdout: '' });
    expect(await kubectl('diff', '-f', join(dir, 'history.yaml'))).toMatchObject({ code: 0, stdout: '' });

    // A server dry run writes nothing: the answer keeps the stored resourceVersion.
    const stored = (await kubectl('get', 'configmap', 'settings', '-o', 'jsonpath={.metadata.resourceVersion}')).stdout;
    const changed = join(dir, 'changed.yaml');
    await writeFile(changed, configMapYaml('{ a: "9", b: "2" }'));
    const dryRun = await kubectl('apply', '-f', changed, '--dry-run=server', '-o', 'jsonpath={.metadata.resourceVersion} {.data.a}');
    expect(dryRun).toMatchObject({ code: 0, stdout: `${stored} 9` });
    expect((await kubectl('get', 'configmap', 'settings', '-o', 'jsonpath={.metadata.resourceVersion} {.data.a}')).stdout).toBe(`${stored} 1`);

    // Server-side, kubectl's client-side apply owns .data.a (an Update): only a forced diff shows the change.
    const conflicting = await kubectl('diff', '--server-side', '-f', changed);
    expect(conflicting.code).toBeGreaterThan(1);
    expect(conflicting.stderr).toContain('conflict with "kubectl-client-side-apply" using v1: .data.a');
    for (const serverSide of [[], ['--server-side', '--force-conflicts']]) {
      const diff = await kubectl('diff', ...serverSide, '-f', changed);
      expect(diff.code).toBe(1);
      const changes = diff.stdout.split('\n').filter((line) => /^[-+] /.test(line));
      expect(changes).toEqual(['-  a: "1"', '+  a: "9"']);
    }
    expect(await kubectl('diff', '--server-side', '-f', same)).toMatchObject({ code: 0, stdout: '' });
  });

  it('deletes a namespace through Terminating: its contents first, nothing new meanwhile, and the namespace once empty', async () => {
    expect(await kubectl('create', 'namespace', 'team')).toMatchObject({ code: 0 });
    expect((await kubectl('get', 'namespace', 'team', '-o', 'jsonpath={.spec.finalizers}')).stdout).toBe('["kubernetes"]');
    expect(await applyManifest(kubectl, dir, 'team', deploymentYaml('team', 'nginx:1.27'))).toMatchObject({ code: 0 });
    expect(await kubectl('rollout', 'status', 'deployment/web', '-n', 'team', '--timeout=60s')).toMatchObject({ code: 0 });
    expect(await kubectl('create', 'configmap', 'held', '-n', 'team')).toMatchObject({ code: 0 });
    expect(await kubectl('patch', 'configmap', 'held', '-n', 'team', '-p', '{"metadata":{"finalizers":["example.com/hold"]}}')).toMatchObject({ code: 0 });

    expect(await kubectl('delete', 'namespace', 'team', '--wait=false')).toMatchObject({ code: 0, stdout: 'namespace "team" deleted\n' });
    expect((await kubectl('get', 'namespace', 'team', '--no-headers')).stdout).toMatch(/^team\s+Terminating\s/);
    expect(await kubectl('create', 'configmap', 'late', '-n', 'team')).toMatchObject({
      code: 1,
      stderr:
        'error: failed to create configmap: configmaps "late" is forbidden: unable to create new content in namespace team because it is being terminated\n',
    });

    // The namespace controller deletes the rest (pods gracefully) and says what holds the namespace.
    await eventually(async () => {
      const out = (await kubectl('get', 'namespace', 'team', '-o', 'jsonpath={.status.conditions[?(@.type=="NamespaceContentRemaining")].message}')).stdout;
      return out === 'Some resources are remaining: configmaps. has 1 resource instances' && out;
    }, 'only the held ConfigMap left');
    expect((await kubectl('get', 'namespace', 'team', '-o', 'jsonpath={.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].message}')).stdout).toBe(
      'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
    );
    expect(await kubectl('get', 'deployments,replicasets,pods', '-n', 'team', '-o', 'name')).toMatchObject({ code: 0, stdout: '' });

    expect(await kubectl('patch', 'configmap', 'held', '-n', 'team', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]')).toMatchObject({
      code: 0,
    });
    expect(await kubectl('wait', '--for=delete', 'namespace/team', '--timeout=60s')).toMatchObject({ code: 0 });
    expect(await kubectl('get', 'namespace', 'team')).toMatchObject({ code: 1, stderr: 'Error from server (NotFound): namespaces "team" not found\n' });
  });

  it('refuses to delete the namespaces kube-apiserver keeps', async () => {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      expect(await kubectl('delete', 'namespace', name)).toMatchObject({
        code: 1,
        stderr: `Error from server (Forbidden): namespaces "${name}" is forbidden: this namespace may not be deleted\n`,
      });
    }
    expect((await kubectl('get', 'namespace', 'default', '--no-headers')).stdout).toMatch(/^default\s+Active\s/);
  });

  it('records who created and changed an object, and a server-side apply over their fields conflicts naming them', async () => {
    const managers = async () =>
      (
        await kubectl(
          'get',
          'configmap',
          'app',
          '--show-managed-fields',
          '-o',
          'jsonpath={range .metadata.managedFields[*]}{.manager}/{.operation}:{.fieldsV1}{"\\n"}{end}',
        )
      ).stdout
        .trim()
        .split('\n');
    expect(await kubectl('create', 'configmap', 'app', '--from-literal=a=1', '--from-literal=b=1')).toMatchObject({ code: 0 });
    expect(await managers()).toEqual(['kubectl-create/Update:{"f:data":{"f:a":{},"f:b":{}}}']);

    const file = join(dir, 'app.yaml');
    await writeFile(file, ['apiVersion: v1', 'kind: ConfigMap', 'metadata: { name: app, namespace: default }', 'data: { a: "2" }', ''].join('\n'));
    const refused = await kubectl('apply', '--server-side', '-f', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: Apply failed with 1 conflict: conflict with "kubectl-create" using v1: \.data\.a\n/);
    expect((await kubectl('get', 'configmap', 'app', '-o', 'jsonpath={.data.a}')).stdout).toBe('1');

    expect(await kubectl('apply', '--server-side', '--force-conflicts', '-f', file)).toMatchObject({ code: 0, stdout: 'configmap/app serverside-applied\n' });
    expect(await kubectl('label', 'configmap', 'app', 'team=payments')).toMatchObject({ code: 0 });
    expect(await managers()).toEqual([
      'kubectl-create/Update:{"f:data":{"f:b":{}}}',
      'kubectl/Apply:{"f:data":{"f:a":{}}}',
      'kubectl-label/Update:{"f:metadata":{"f:labels":{"f:team":{}}}}',
    ]);
    expect((await kubectl('get', 'configmap', 'app', '-o', 'jsonpath={.data}')).stdout).toBe('{"a":"2","b":"1"}');
  });

  it('records kubectl scale under subresource scale, so a server-side apply of another replica count conflicts naming it', async () => {
    const file = join(dir, 'scaled.yaml');
    await writeFile(file, deploymentYaml('default', 'nginx:1.27').replace('name: web,', 'name: scaled,'));
    expect(await kubectl('apply', '--server-side', '-f', file)).toMatchObject({ code: 0, stdout: 'deployment.apps/scaled serverside-applied\n' });
    expect(await kubectl('scale', 'deployment/scaled', '--replicas=3')).toMatchObject({ code: 0, stdout: 'deployment.apps/scaled scaled\n' });
    const managers = (
      await kubectl(
        'get',
        'deployment',
        'scaled',
        '--show-managed-fields',
        '-o',
        'jsonpath={range .metadata.managedFields[*]}{.manager}/{.operation}/{.subresource}:{.fieldsV1.f:spec.f:replicas}{"\\n"}{end}',
      )
    ).stdout;
    expect(managers).toMatch(/^kubectl\/Update\/scale:\{\}$/m);
    // The deployment controller's status writes are kube-controller-manager's, through status.
    await eventually(async () => {
      const out = (
        await kubectl(
          'get',
          'deployment',
          'scaled',
          '--show-managed-fields',
          '-o',
          'jsonpath={.metadata.managedFields[*].manager}/{.metadata.managedFields[*].subresource}',
        )
      ).stdout;
      return out.includes('kube-controller-manager') && out.endsWith('/scale status');
    }, 'the deployment controller’s status entry');
    // Its pods' status is the kubelet's (the scheduler's PodScheduled goes with it: lists are owned whole here).
    await eventually(async () => {
      const out = (
        await kubectl(
          'get',
          'pods',
          '-l',
          'app=web',
          '--show-managed-fields',
          '-o',
          'jsonpath={.items[*].metadata.managedFields[*].manager}/{.items[*].metadata.managedFields[*].subresource}',
        )
      ).stdout;
      return out.includes('kubelet') && out.includes('status');
    }, 'a pod status entry of the kubelet');

    const refused = await kubectl('apply', '--server-side', '-f', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps\/v1: \.spec\.replicas\n/);
    expect((await kubectl('get', 'deployment', 'scaled', '-o', 'jsonpath={.spec.replicas}')).stdout).toBe('3');
    expect(await kubectl('apply', '--server-side', '--force-conflicts', '-f', file)).toMatchObject({ code: 0 });
    expect((await kubectl('get', 'deployment', 'scaled', '-o', 'jsonpath={.spec.replicas}')).stdout).toBe('2');
  });

  it('records a status write under subresource status, apart from the spec’s managers', async () => {
    expect(await kubectl('create', 'service', 'loadbalancer', 'edge', '--tcp=80:8080')).toMatchObject({ code: 0 });
    const ingress = '{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.7"}]}}}';
    expect(await kubectl('patch', 'service', 'edge', '--subresource=status', '--type=merge', '-p', ingress)).toMatchObject({
      code: 0,
      stdout: 'service/edge patched\n',
    });
    const managers = (
      await kubectl(
        'get',
        'service',
        'edge',
        '--show-managed-fields',
        '-o',
        'jsonpath={range .metadata.managedFields[*]}{.manager}/{.operation}/{.subresource}:{.fieldsV1.f:status}{"\\n"}{end}',
      )
    ).stdout
      .trim()
      .split('\n');
    expect(managers).toEqual(['kubectl-create/Update/:', 'kubectl-patch/Update/status:{"f:loadBalancer":{"f:ingress":{}}}']);
  });

  it('refuses a mistyped label or field selector with kube-apiserver’s parser messages', async () => {
    // kubectl wraps the server's message in what it was looking for.
    const refused = (label: string, field: string, message: string) =>
      `Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "${label}", field selector "${field}": ${message}\n`;
    expect(await kubectl('get', 'pods', '-l', 'env in (a')).toMatchObject({
      code: 1,
      stderr: refused('env in (a', '', "unable to parse requirement: found '', expected: ',' or ')'"),
    });
    expect(await kubectl('get', 'pods', '-l', 'a=b,,c')).toMatchObject({
      code: 1,
      stderr: refused('a=b,,c', '', "found ',', expected: identifier after ','"),
    });
    expect(await kubectl('get', 'pods', '--field-selector', 'spec.nodeNam=worker-a')).toMatchObject({
      code: 1,
      stderr: refused('', 'spec.nodeNam=worker-a', 'field label not supported: spec.nodeNam'),
    });
    // `in ()` is the set of the empty value: a valid selector that matches nothing here.
    expect(await kubectl('get', 'pods', '-l', 'a in ()')).toMatchObject({ code: 0, stderr: 'No resources found in default namespace.\n' });
  });

  it('lists what an admin may do as kube-apiserver does for cluster-admin: everything, the self reviews and the discovery paths', async () => {
    const list = await kubectl('auth', 'can-i', '--list');
    expect(list.code).toBe(0);
    const rows = list.stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).join(' '));
    expect(rows.slice(0, 6)).toEqual([
      'Resources Non-Resource URLs Resource Names Verbs',
      '*.* [] [] [*]',
      '[*] [] [*]',
      'selfsubjectreviews.authentication.k8s.io [] [] [create]',
      'selfsubjectaccessreviews.authorization.k8s.io [] [] [create]',
      'selfsubjectrulesreviews.authorization.k8s.io [] [] [create]',
    ]);
    expect(rows).toContain('[/readyz] [] [get]');
    expect(rows).toContain('[/openapi/*] [] [get]');
  });
});
