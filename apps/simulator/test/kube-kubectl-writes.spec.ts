import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestSimulator, type TestSimulator } from './harness';
import { type Kubectl, kubectlDir, kubectlFor, removeKubectlDir } from './kubectl-support';

/** Waits for `check` to hold, polling; fails after `timeoutMs` with what it last saw. */
async function eventually<T>(read: () => Promise<T> | T, check: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** kubectl's writes against the emulator: patches, apply (client- and server-side), watch, finalizers, GC. */
describe('kubectl writes against the emulated API server', () => {
  let sim: TestSimulator;
  let dir: string;
  let kubeconfig: string;
  let kubectl: Kubectl;
  const children: ChildProcess[] = [];

  const json = async (...args: string[]) => JSON.parse((await kubectl(...args, '-o', 'json')).stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  beforeAll(async () => {
    sim = await startTestSimulator();
    dir = await kubectlDir('capstan-kube-w-');
    ({ kubectl, kubeconfig } = await kubectlFor(dir, sim.simulator.managementKubeconfig));
  });
  afterAll(async () => {
    for (const child of children) child.kill();
    await sim?.close();
    await removeKubectlDir(dir);
  });

  it('applies twice: the second apply is a patch that removes what the file no longer has', async () => {
    const path = await file('app.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: "1"\n  b: "2"\n');
    expect(await kubectl('apply', '-f', path)).toMatchObject({ code: 0, stdout: 'configmap/app created\n' });
    await writeFile(path, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: "1"\n  c: "3"\n');
    expect(await kubectl('apply', '-f', path)).toMatchObject({ code: 0, stdout: 'configmap/app configured\n' });
    expect((await json('get', 'cm', 'app')).data).toEqual({ a: '1', c: '3' });
    expect(await kubectl('apply', '-f', path)).toMatchObject({ code: 0, stdout: 'configmap/app unchanged\n' });
  });

  it('applies server-side, records the manager, and reports a conflict with another manager', async () => {
    const path = await file('ssa.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  owner: first\n');
    expect(await kubectl('apply', '--server-side', '-f', path)).toMatchObject({ code: 0, stdout: 'configmap/ssa serverside-applied\n' });
    const stored = await json('get', 'cm', 'ssa', '--show-managed-fields');
    expect(stored.metadata.managedFields).toEqual([
      expect.objectContaining({ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:data': { 'f:owner': {} } } }),
    ]);
    await writeFile(path, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  owner: second\n');
    const conflict = await kubectl('apply', '--server-side', '--field-manager=other', '-f', path);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('conflict with "kubectl"');
    expect(await kubectl('apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', path)).toMatchObject({ code: 0 });
    expect((await json('get', 'cm', 'ssa')).data).toEqual({ owner: 'second' });
  });

  it('patches with merge, JSON and strategic patches, and labels and annotates', async () => {
    const path = await file(
      'deploy.yaml',
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [
                { name: 'app', image: 'nginx:1', env: [{ name: 'A', value: '1' }] },
                { name: 'side', image: 'busybox' },
              ],
            },
          },
        },
      }),
    );
    expect(await kubectl('create', '-f', path)).toMatchObject({ code: 0 });
    expect(await kubectl('patch', 'deployment', 'web', '--type', 'merge', '-p', '{"spec":{"replicas":3}}')).toMatchObject({ code: 0 });
    expect(
      await kubectl(
        'patch',
        'deployment',
        'web',
        '--type',
        'json',
        '-p',
        '[{"op":"replace","path":"/spec/template/spec/containers/1/image","value":"busybox:2"}]',
      ),
    ).toMatchObject({
      code: 0,
    });
    expect(
      await kubectl(
        'patch',
        'deployment',
        'web',
        '--type',
        'strategic',
        '-p',
        '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2","env":[{"name":"B","value":"2"}]}]}}}}',
      ),
    ).toMatchObject({ code: 0 });
    expect(await kubectl('label', 'deployment', 'web', 'tier=frontend')).toMatchObject({ code: 0, stdout: 'deployment.apps/web labeled\n' });
    expect(await kubectl('annotate', 'deployment', 'web', 'capstan.io/note=hello')).toMatchObject({ code: 0, stdout: 'deployment.apps/web annotated\n' });
    const web = await json('get', 'deployment', 'web');
    expect(web.spec.replicas).toBe(3);
    expect(web.spec.template.spec.containers).toEqual([
      {
        name: 'app',
        image: 'nginx:2',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      },
      { name: 'side', image: 'busybox:2' },
    ]);
    expect(web.metadata.labels).toEqual({ tier: 'frontend' });
    expect(web.metadata.annotations).toMatchObject({ 'capstan.io/note': 'hello' });
    expect(web.metadata.generation).toBe(4);
    expect((await kubectl('get', 'deployment', 'web', '--no-headers')).stdout).toMatch(/^web\s+0\/3\s+0\s+0\s+\d+s\n$/);
  });

  it('streams a change to `kubectl get -w`', async () => {
    await kubectl('apply', '-f', await file('watched.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\ndata:\n  v: "1"\n'));
    let output = '';
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, 'get', 'cm', 'watched', '-w', '-o', 'jsonpath={.data.v}{"\\n"}'], {
      env: { ...process.env, HOME: dir },
    });
    children.push(child);
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(
      () => output,
      (text) => text.includes('1\n'),
    );
    await kubectl('patch', 'cm', 'watched', '--type', 'merge', '-p', '{"data":{"v":"2"}}');
    await eventually(
      () => output,
      (text) => text.includes('2\n'),
    );
    child.kill();
  });

  it('waits in `kubectl delete` until the finalizer is removed', async () => {
    await kubectl('apply', '-f', await file('held.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [capstan.io/hold]\n'));
    const deleting = kubectl('delete', 'cm', 'held', '--timeout=30s');
    await eventually(
      () => json('get', 'cm', 'held'),
      (cm) => Boolean(cm.metadata?.deletionTimestamp),
    );
    let settled = false;
    void deleting.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    expect(await kubectl('patch', 'cm', 'held', '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]')).toMatchObject({ code: 0 });
    expect(await deleting).toMatchObject({ code: 0, stdout: 'configmap "held" deleted\n' });
    expect((await kubectl('get', 'cm', 'held')).stderr).toContain('not found');
  });

  it('collects the dependents of a deleted owner', async () => {
    const owner = (
      await sim.simulator.kube.server('management').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner', namespace: 'default' } })
    ).metadata;
    await sim.simulator.kube.server('management').create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'dependent', namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.uid! }] },
    });
    expect(await kubectl('delete', 'cm', 'owner')).toMatchObject({ code: 0 });
    await eventually(
      () => kubectl('get', 'secret', 'dependent'),
      (result) => result.stderr.includes('not found'),
    );
  });
});
