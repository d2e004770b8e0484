import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestSimulator, type TestSimulator } from './harness';
import { type Kubectl, kubectlDir, kubectlFor, removeKubectlDir } from './kubectl-support';

/**
 * The real kubectl (1.32) against the emulated management API server, with the kubeconfig
 * startSimulator hands out.
 */
describe('kubectl against the emulated management API server', () => {
  let sim: TestSimulator;
  let dir: string;
  let kubectl: Kubectl;

  beforeAll(async () => {
    sim = await startTestSimulator();
    dir = await kubectlDir('capstan-kube-');
    ({ kubectl } = await kubectlFor(dir, sim.simulator.managementKubeconfig));
  });
  afterAll(async () => {
    await sim?.close();
    await removeKubectlDir(dir);
  });

  it('answers /readyz and /version in the distribution’s form', async () => {
    expect(await kubectl('get', '--raw', '/readyz')).toMatchObject({ code: 0, stdout: 'ok' });
    expect(JSON.parse((await kubectl('get', '--raw', '/version')).stdout)).toMatchObject({ major: '1', minor: '36', gitVersion: 'v1.36.4' });
  });

  it('lists the namespaces every API server starts with, then creates and deletes one', async () => {
    expect((await kubectl('get', 'ns', '-o', 'name')).stdout.trim().split('\n')).toEqual([
      'namespace/default',
      'namespace/kube-node-lease',
      'namespace/kube-public',
      'namespace/kube-system',
    ]);
    const file = join(dir, 'ns.yaml');
    await writeFile(file, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n');
    expect(await kubectl('create', '-f', file)).toMatchObject({ code: 0, stdout: 'namespace/team-a created\n' });
    expect((await kubectl('get', 'ns', 'team-a', '--no-headers')).stdout).toMatch(/^team-a\s+Active\s+\d+s\n$/);
    expect((await kubectl('create', '-f', file)).stderr).toContain('namespaces "team-a" already exists');
    expect(await kubectl('delete', 'namespace', 'team-a')).toMatchObject({ code: 0, stdout: 'namespace "team-a" deleted\n' });
    expect((await kubectl('get', 'ns', 'team-a')).stderr).toContain('namespaces "team-a" not found');
  });

  it('applies a ConfigMap from a file, and reads it back', async () => {
    const file = join(dir, 'cm.yaml');
    await writeFile(
      file,
      ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: settings', '  namespace: default', 'data:', '  colour: blue', ''].join('\n'),
    );
    expect(await kubectl('apply', '-f', file)).toMatchObject({ code: 0, stdout: 'configmap/settings created\n' });
    const stored = JSON.parse((await kubectl('get', 'configmap', 'settings', '-o', 'json')).stdout) as {
      data: unknown;
      metadata: { uid: string; resourceVersion: string };
    };
    expect(stored.data).toEqual({ colour: 'blue' });
    expect(stored.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(stored.metadata.resourceVersion)).toBeGreaterThan(0);
  });

  it('creates namespaces, ConfigMaps and Secrets with kubectl’s generators (which send protobuf)', async () => {
    expect(await kubectl('create', 'namespace', 'team-b')).toMatchObject({ code: 0, stdout: 'namespace/team-b created\n' });
    expect(await kubectl('create', 'configmap', 'generated', '-n', 'team-b', '--from-literal=a=b', '--from-literal=c=d')).toMatchObject({ code: 0 });
    expect(await kubectl('create', 'secret', 'generic', 'secret', '-n', 'team-b', '--from-literal=password=hunter2')).toMatchObject({ code: 0 });
    expect(await kubectl('create', 'deployment', 'web', '-n', 'team-b', '--image=nginx:1.27', '--replicas=2', '--port=80')).toMatchObject({ code: 0 });
    expect(JSON.parse((await kubectl('get', 'cm', 'generated', '-n', 'team-b', '-o', 'json')).stdout)).toMatchObject({ data: { a: 'b', c: 'd' } });
    expect(JSON.parse((await kubectl('get', 'deployment', 'web', '-n', 'team-b', '-o', 'json')).stdout)).toMatchObject({
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }] }] },
        },
      },
    });
    expect(JSON.parse((await kubectl('get', 'secret', 'secret', '-n', 'team-b', '-o', 'json')).stdout)).toMatchObject({
      type: 'Opaque',
      data: { password: Buffer.from('hunter2').toString('base64') },
    });
  });

  it('answers a stale update with 409 Conflict', async () => {
    const created = join(dir, 'stale.json');
    await writeFile(created, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stale', namespace: 'default' }, data: { a: '1' } }));
    expect(await kubectl('create', '-f', created)).toMatchObject({ code: 0 });
    const first = JSON.parse((await kubectl('get', 'cm', 'stale', '-o', 'json')).stdout) as Record<string, unknown> & { data: Record<string, string> };
    const newer = { ...first, data: { a: '2' } };
    const older = { ...first, data: { a: '3' } };
    const file = join(dir, 'update.json');
    await writeFile(file, JSON.stringify(newer));
    expect(await kubectl('replace', '-f', file)).toMatchObject({ code: 0 });
    await writeFile(file, JSON.stringify(older));
    const stale = await kubectl('replace', '-f', file);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('Operation cannot be fulfilled on configmaps "stale": the object has been modified');
    expect(JSON.parse((await kubectl('get', 'cm', 'stale', '-o', 'json')).stdout)).toMatchObject({ data: { a: '2' } });
  });

  it('lists the served resources with their short names', async () => {
    const result = await kubectl('api-resources', '--no-headers');
    expect(result.code).toBe(0);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/));
    expect(rows).toContainEqual(['namespaces', 'ns', 'v1', 'false', 'Namespace']);
    expect(rows).toContainEqual(['deployments', 'deploy', 'apps/v1', 'true', 'Deployment']);
    expect(rows).toContainEqual(['flowschemas', 'flowcontrol.apiserver.k8s.io/v1', 'false', 'FlowSchema']);
    expect(rows.some((row) => row[0] === 'helmcharts')).toBe(false);
  });

  it('refuses a request without a valid token with a 401 Status', async () => {
    const bad = await kubectlFor(dir, sim.simulator.managementKubeconfig.replace(/token: .*/, 'token: not-a-token'), 'bad-kubeconfig');
    const result = await bad.kubectl('get', 'ns');
    expect(result.stderr).toMatch(/Unauthorized|must be logged in/);
  });
});
