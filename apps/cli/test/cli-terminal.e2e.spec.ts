import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { seedOrganization, simulatorCall, type Stack, startStack, WORKSPACE_ROOT } from '@capstan/testing';

const CLI = join(WORKSPACE_ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');

/**
 * The built `capstan` CLI as a person runs it: in a real terminal (a tmux pane of its own, on a
 * tmux server of its own), against the real API, worker, PostgreSQL, Redis and the simulated cloud.
 * The pane is read with capture-pane until the command prints its exit code, with a deadline.
 */
describe('the capstan CLI in a terminal', () => {
  let stack: Stack;
  let token: string;
  let home: string;
  const socket = `capstan-cli-test-${process.pid}`;
  let session = 0;
  /** The cluster the first test creates, for the ones after it. */
  let demoId: string;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    // Slow enough steps that a person (and this test) sees them advance one by one.
    stack = await startStack({ stepDelayMs: 400 });
    token = (await seedOrganization(stack.prisma, { maxClusters: 10, maxNodes: 50 })).token;
    home = mkdtempSync(join(tmpdir(), 'capstan-cli-'));
  }, 60_000);

  afterAll(async () => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    await simulatorCall(stack.simulator.apiUrl, 'DELETE', '/v1/chaos/faults').catch(() => undefined);
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

  /** Runs the CLI in a new tmux pane, stdout to a file; answers every distinct screen seen, the exit code and stdout. */
  async function inTerminal(args: string[], timeoutMs = 60_000): Promise<{ screens: string[]; exitCode: number; stdout: string }> {
    const name = `s${++session}`;
    const stdoutFile = join(home, `${name}.out`);
    const command = [
      `HOME=${shellQuote(home)} XDG_CONFIG_HOME=${shellQuote(join(home, '.config'))}`,
      `CAPSTAN_URL=${shellQuote(stack.apiUrl)} CAPSTAN_TOKEN=${shellQuote(token)}`,
      `${shellQuote(process.execPath)} ${shellQuote(CLI)} ${args.map(shellQuote).join(' ')} > ${shellQuote(stdoutFile)}`,
      '; echo "EXIT=$?"; sleep 600',
    ].join(' ');
    execFileSync('tmux', ['-L', socket, '-f', '/dev/null', 'new-session', '-d', '-s', name, '-x', '160', '-y', '50', command]);
    const screens: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = execFileSync('tmux', ['-L', socket, 'capture-pane', '-p', '-t', name], { encoding: 'utf8' });
      if (screens.at(-1) !== screen) screens.push(screen);
      const exit = /EXIT=(\d+)/.exec(screen);
      if (exit) {
        spawnSync('tmux', ['-L', socket, 'kill-session', '-t', name]);
        return { screens, exitCode: Number(exit[1]), stdout: readFileSync(stdoutFile, 'utf8') };
      }
      if (Date.now() > deadline) throw new Error(`the CLI did not finish within ${timeoutMs} ms; its screen:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('creates a cluster with --wait: the steps advance on screen, it exits 0 and prints the running cluster as JSON', async () => {
    const { screens, exitCode, stdout } = await inTerminal([
      'clusters',
      'create',
      'demo',
      '--provider',
      'rke2',
      '--region',
      'nine-cz41',
      '--node-pool',
      'name=default,machine-type=nine-standard-4,count=3',
      '--wait',
      '--interval',
      '0.2',
      '-o',
      'json',
    ]);
    const last = screens.at(-1)!;
    expect(exitCode).toBe(0);
    // Every step ends with a tick line of its own, in order.
    const ticks = [...last.matchAll(/✔ (\w+) succeeded/g)].map((m) => m[1]);
    expect(ticks).toEqual([
      'reserve_endpoint',
      'create_control_plane',
      'wait_control_plane_ready',
      'create_node_pools',
      'install_addons',
      'issue_admin_credentials',
      'mark_running',
    ]);
    // ... and they came one by one: screens in between showed some steps done and others not yet.
    const doneCounts = new Set(screens.map((s) => (s.match(/✔ \w+ succeeded/g) ?? []).length));
    expect(doneCounts.size).toBeGreaterThanOrEqual(3);
    expect(screens.some((s) => /\[\d\/7\] \w+ \d+% · \d+\.\ds elapsed/.test(s))).toBe(true);
    const result = JSON.parse(stdout);
    expect(result.cluster).toMatchObject({ name: 'demo', status: 'running' });
    expect(result.operation).toMatchObject({ type: 'create_cluster', status: 'succeeded', progress: 100 });
    demoId = result.cluster.id;
  }, 90_000);

  it('lists as YAML and saves the kubeconfig: merged into ~/.kube/config (switching to it), or to a file', async () => {
    const listed = await inTerminal(['clusters', 'list', '-o', 'yaml']);
    expect(listed.exitCode).toBe(0);
    expect(parse(listed.stdout).items).toEqual([expect.objectContaining({ id: demoId, name: 'demo', status: 'running' })]);

    const kubeDir = join(home, '.kube');
    mkdirSync(kubeDir, { recursive: true });
    writeFileSync(
      join(kubeDir, 'config'),
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'mine', cluster: { server: 'https://mine' } }],
        contexts: [],
        users: [],
        'current-context': 'mine',
      }),
    );
    const merged = await inTerminal(['kubeconfig', 'save', demoId, '--expiry', '600']);
    expect(merged.exitCode).toBe(0);
    expect(merged.screens.at(-1)).toMatch(/saved to .*\.kube\/config; its credential expires at \d{4}-\d\d-\d\dT/);
    const config = parse(readFileSync(join(kubeDir, 'config'), 'utf8'));
    expect(config.clusters.map((c: { name: string }) => c.name)).toEqual(['mine', expect.any(String)]);
    expect(config.clusters[1].cluster.server).toMatch(/^https:\/\//);
    expect(config['current-context']).not.toBe('mine');
    expect(statSync(join(kubeDir, 'config')).mode & 0o777).toBe(0o600);

    const file = join(home, 'demo.kubeconfig');
    const saved = await inTerminal(['kubeconfig', 'save', demoId, '--file', file]);
    expect(saved.exitCode).toBe(0);
    expect(parse(readFileSync(file, 'utf8')).clusters).toHaveLength(1);
  }, 60_000);

  it('exits 5 with the failed step and its error when the operation fails', async () => {
    await simulatorCall(stack.simulator.apiUrl, 'POST', '/v1/chaos/faults', { match: { call: 'installAddons' }, mode: 'fail_always', retryable: false });
    const { screens, exitCode, stdout } = await inTerminal([
      'clusters',
      'create',
      'doomed',
      '--provider',
      'rke2',
      '--region',
      'nine-cz41',
      '--node-pool',
      'name=a,machine-type=nine-standard-2,count=1',
      '--wait',
      '--interval',
      '0.2',
    ]);
    const last = screens.at(-1)!;
    expect(exitCode).toBe(5);
    expect(last).toContain('✖ install_addons failed');
    expect(last).toMatch(/Error: operation \S+ \(create_cluster\) failed: .*install_addons.*injected fault/s);
    expect(stdout).toBe('');
  }, 90_000);

  it("shows a refused request's problem title and detail and exits by its status", async () => {
    const missing = await inTerminal(['clusters', 'get', `cl_${'0'.repeat(26)}`]);
    expect(missing.exitCode).toBe(4);
    expect(missing.screens.at(-1)).toMatch(/Error: .+ \(404\)/);

    // A malformed id: 400, and the field error the problem lists is shown under its title.
    const malformed = await inTerminal(['clusters', 'get', 'not-an-id']);
    expect(malformed.exitCode).toBe(1);
    expect(malformed.screens.at(-1)).toMatch(/Error: .+ \(400\).*\n.*cluster_id.*must be an id starting with cl_/s);

    const invalid = await inTerminal([
      'clusters',
      'create',
      'x',
      '--provider',
      'rke2',
      '--region',
      'mars-1',
      '--node-pool',
      'name=a,machine-type=nine-standard-2,count=1',
    ]);
    expect(invalid.exitCode).toBe(1);
    expect(invalid.screens.at(-1)).toMatch(/Error: .+ \(4\d\d\): .*mars-1/s);

    const usage = await inTerminal(['clusters', 'create', 'x', '--provider', 'rke2', '--region', 'nine-cz41', '--node-pool', 'name=a,count=three']);
    expect(usage.exitCode).toBe(2);
  }, 90_000);
});
