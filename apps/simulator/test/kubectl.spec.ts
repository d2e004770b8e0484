import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { clusterSpec, poolSpec, startTestSimulator, type TestSimulator } from './harness';

const run = promisify(execFile);

/**
 * The real kubectl (1.32, on the PATH) against a simulated cluster, with a kubeconfig shaped like
 * the one Capstan hands out: the listener's URL, the CA, a bearer token and `tls-server-name`,
 * which is what picks the cluster on the shared listener.
 */
describe('kubectl against a simulated cluster', () => {
  let sim: TestSimulator;
  let dir: string;
  let kubeconfig: string;

  const kubectl = async (...args: string[]) => {
    try {
      const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=10s', ...args], { env: { ...process.env, HOME: dir } });
      return { code: 0, stdout, stderr: '' };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  beforeAll(async () => {
    sim = await startTestSimulator();
    dir = await mkdtemp(join(tmpdir(), 'capstan-kubectl-'));
    await sim.provider.ensureCluster(clusterSpec('capstan-kubectl', '1.32.4'));
    await sim.provider.ensureCluster(clusterSpec('capstan-kubectl-other', '1.33.1'));
    await sim.provider.ensureNodePool('capstan-kubectl', poolSpec('workers', { count: 3, version: '1.32.4' }));
    await sim.provider.ensureNodePool('capstan-kubectl-other', poolSpec('other', { count: 1, version: '1.33.1' }));
    const credentials = await sim.provider.issueCredentials('capstan-kubectl', 600);
    expect(credentials.server).toBe(sim.simulator.kubeUrl);
    expect(credentials.tlsServerName).toBe('capstan-kubectl.clusters.simulator.capstan.test');
    kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: c',
        '  cluster:',
        `    server: ${credentials.server}`,
        `    certificate-authority-data: ${Buffer.from(credentials.caCertificate).toString('base64')}`,
        `    tls-server-name: ${credentials.tlsServerName!}`,
        'users:',
        '- name: u',
        '  user:',
        `    token: ${credentials.token}`,
        'contexts:',
        '- name: c',
        '  context: { cluster: c, user: u }',
        'current-context: c',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists the node pool’s nodes Ready at the cluster’s version, and no other cluster’s', async () => {
    const result = await kubectl('get', 'nodes', '--no-headers');
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^workers-\S+\s+Ready\s+<none>\s+\d+s\s+v1\.32\.4\+rke2r1$/);
  });

  it('shows a cordoned node as SchedulingDisabled', async () => {
    const nodes = (await kubectl('get', 'nodes', '-o', 'name')).stdout.trim().split('\n');
    const node = nodes[0]!.replace('node/', '');
    await sim.provider.cordonNode('capstan-kubectl', node);

    const result = await kubectl('get', 'node', node, '--no-headers');
    expect(result.stdout).toMatch(new RegExp(`^${node}\\s+Ready,SchedulingDisabled\\s`));
    expect(JSON.parse((await kubectl('get', 'node', node, '-o', 'json')).stdout)).toMatchObject({ kind: 'Node', spec: { unschedulable: true } });
  });

  it('lists the namespaces a cluster starts with', async () => {
    const result = await kubectl('get', 'ns', '-o', 'name');
    expect(result.stdout.trim().split('\n')).toEqual(['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']);
  });

  it('answers raw paths for the cluster the server name picks: /readyz, /version', async () => {
    expect((await kubectl('get', '--raw', '/readyz')).stdout).toBe('ok');
    expect(JSON.parse((await kubectl('get', '--raw', '/version')).stdout)).toMatchObject({ gitVersion: 'v1.32.4+rke2r1' });
  });

  it('lists no pods yet, in every namespace', async () => {
    expect(await kubectl('get', 'pods', '-A')).toMatchObject({ code: 0, stdout: '' });
    expect((await kubectl('get', 'pods', '-n', 'kube-system', '-o', 'json')).stdout).toContain('"items": []');
    expect((await kubectl('get', 'pods', '-n', 'nowhere', 'web-0')).stderr).toContain('not found');
  });

  it('answers NotFound as a Status kubectl understands', async () => {
    const result = await kubectl('get', 'node', 'no-such-node');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nodes "no-such-node" not found');
  });
});
