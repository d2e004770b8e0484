import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedOrganization, type Stack, startStack, waitForOperation } from '@capstan/testing';
import { assertCliBuilt, runCapstan, spawnCapstan } from './cli-process';

/**
 * The built `capstan` CLI on the features of the last session (docs/cli.md): backups and their
 * schedules, restores, add-ons and upgrades, against the real API and worker on the emulated
 * providers with their real drivers. Each command runs as a process, as a person runs it.
 */
describe('the capstan CLI: backups, restores, add-ons and upgrades', () => {
  let stack: Stack;
  let token: string;
  let home: string;
  let clusterId: string;

  beforeAll(async () => {
    assertCliBuilt();
    stack = await startStack({ drivers: true, stepDelayMs: 20 });
    token = (await seedOrganization(stack.prisma, { maxClusters: 5, maxNodes: 20 })).token;
    home = mkdtempSync(join(tmpdir(), 'capstan-cli-'));
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const capstan = (...args: string[]) => runCapstan({ home, apiUrl: stack.apiUrl, token }, args);

  it('creates an RKE2 cluster on 1.35 to work on', async () => {
    const versions = (await (await fetch(`${stack.apiUrl}/v1/versions`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      items: { provider: string; minor: string; latest_patch: string }[];
    };
    const version = versions.items.find((v) => v.provider === 'rke2' && v.minor === '1.35')!.latest_patch;
    const created = await capstan(
      '-o',
      'json',
      'clusters',
      'create',
      'shop',
      '--provider',
      'rke2',
      '--region',
      'nine-cz41',
      '--version',
      version,
      '--node-pool',
      'name=apps,machine-type=nine-standard-2,count=1',
    );
    expect(created.code).toBe(0);
    const body = JSON.parse(created.stdout) as { cluster: { id: string }; operation: { id: string } };
    clusterId = body.cluster.id;
    await waitForOperation(stack.database, body.operation.id, ['succeeded'], 120_000);
  }, 150_000);

  it('takes an etcd snapshot with --wait and lists it; a backup of an unknown cluster exits 4', async () => {
    const taken = await capstan('-o', 'json', 'backups', 'create', clusterId, '--wait', '--interval', '0.2');
    expect(taken.code).toBe(0);
    const backup = JSON.parse(taken.stdout) as { id: string; state: string; kind: string; purpose: string };
    expect(backup).toMatchObject({ state: 'succeeded', kind: 'etcd_snapshot', purpose: 'on_demand' });

    const listed = await capstan('backups', 'list', clusterId);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(backup.id);
    expect(listed.stdout).toMatch(/etcd_snapshot.*on_demand.*succeeded/);

    const unknown = await capstan('backups', 'create', 'cl_00000000000000000000000000');
    expect(unknown.code).toBe(4);
  }, 120_000);

  it('stops quietly when its reader goes away early (capstan backups list | head -1), without a stack trace', async () => {
    const child = spawnCapstan({ home, apiUrl: stack.apiUrl, token }, ['backups', 'list', clusterId]);
    // The reader closes its end before the CLI has its answer to print, as head does after a line.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += String(c)));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  }, 30_000);

  it('creates, lists and deletes a schedule; a bad cron is refused with the field named (exit 1)', async () => {
    const created = await capstan(
      '-o',
      'json',
      'backups',
      'schedules',
      'create',
      clusterId,
      'nightly',
      '--cron',
      '0 2 * * *',
      '--time-zone',
      'Europe/Zurich',
      '--keep',
      '3',
    );
    expect(created.code).toBe(0);
    const schedule = JSON.parse(created.stdout) as { id: string };
    expect(JSON.parse(created.stdout)).toMatchObject({ cron: '0 2 * * *', time_zone: 'Europe/Zurich', retention: { count: 3, days: null } });
    const listed = await capstan('backups', 'schedules', 'list', clusterId);
    expect(listed.stdout).toMatch(/nightly.*0 2 \* \* \*.*Europe\/Zurich.*3 backups/);
    const refused = await capstan('backups', 'schedules', 'create', clusterId, 'broken', '--cron', '61 * * * *');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('cron');
    expect((await capstan('backups', 'schedules', 'delete', clusterId, schedule.id)).code).toBe(0);
    expect((await capstan('backups', 'schedules', 'list', clusterId)).stdout).not.toContain(schedule.id);
  }, 60_000);

  it('adds, lists and deletes a maintenance exclusion; one that ended is refused naming the rule (exit 1)', async () => {
    const start = new Date(Date.now() + 86_400_000).toISOString();
    const end = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const added = await capstan(
      '-o',
      'json',
      'clusters',
      'exclusions',
      'add',
      clusterId,
      'launch',
      '--scope',
      'no_minor_upgrades',
      '--start',
      start,
      '--end',
      end,
    );
    expect(added.code).toBe(0);
    // an RKE2 cluster's exclusion is Capstan's alone: the answer is the exclusion itself
    const exclusion = JSON.parse(added.stdout) as { id: string; scope: string };
    expect(exclusion).toMatchObject({ id: expect.stringMatching(/^mx_/), scope: 'no_minor_upgrades' });
    const listed = await capstan('clusters', 'exclusions', 'list', clusterId);
    expect(listed.stdout).toMatch(/launch.*no_minor_upgrades/);
    const past = new Date(Date.now() - 86_400_000).toISOString();
    const refused = await capstan(
      'clusters',
      'exclusions',
      'add',
      clusterId,
      'late',
      '--scope',
      'no_upgrades',
      '--start',
      past,
      '--end',
      past.replace(/Z$/, '') + 'Z',
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ends_at');
    const ended = new Date(Date.now() - 3_600_000).toISOString();
    const inPast = await capstan('clusters', 'exclusions', 'add', clusterId, 'late', '--scope', 'no_upgrades', '--start', past, '--end', ended);
    expect(inPast.code).toBe(1);
    expect(inPast.stderr).toContain('must not end in the past');
    expect((await capstan('clusters', 'exclusions', 'delete', clusterId, exclusion.id)).code).toBe(0);
    expect((await capstan('clusters', 'exclusions', 'list', clusterId)).stdout).not.toContain(exclusion.id);
  }, 60_000);

  it('lists the add-ons, enables one with a setting and removes it; an always-on one is refused', async () => {
    const listed = await capstan('addons', 'list', clusterId);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/cilium.*always_on/);
    const enabled = await capstan('-o', 'json', 'addons', 'enable', clusterId, 'keda', '--set', 'operator_replicas=2', '--wait', '--interval', '0.2');
    expect(enabled.code).toBe(0);
    expect(JSON.parse(enabled.stdout)).toMatchObject({ type: 'update_addons', status: 'succeeded' });
    expect((await capstan('addons', 'list', clusterId)).stdout).toMatch(/keda.*optional.*true/);
    const refused = await capstan('addons', 'disable', clusterId, 'cilium');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('always on');
    const disabled = await capstan('addons', 'disable', clusterId, 'keda', '--wait', '--interval', '0.2');
    expect(disabled.code).toBe(0);
    // The finished operation as `operations get` shows it: a row, then its steps as rows, no JSON in a cell.
    expect(disabled.stdout).toMatch(/update_addons.*succeeded.*100%/);
    expect(disabled.stdout).toMatch(/STEP.*STATUS.*ATTEMPTS/);
    expect(disabled.stdout).not.toContain('{"');
  }, 120_000);

  it('shows the upgrade plan, upgrades with --wait, and refuses to restore the older snapshot onto the new minor', async () => {
    const plan = await capstan('clusters', 'upgrade-plan', clusterId, '--version', '1.36');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/-> 1\.36\.\d+: runnable/);
    expect(plan.stdout).toMatch(/control_plane/);
    expect(plan.stdout).toMatch(/node_pool.*apps/);

    const upgraded = await capstan('-o', 'json', 'clusters', 'upgrade', clusterId, '--version', '1.36', '--wait', '--interval', '0.2');
    expect(upgraded.code).toBe(0);
    expect(JSON.parse(upgraded.stdout)).toMatchObject({ type: 'upgrade_cluster', status: 'succeeded' });

    const before = JSON.parse((await capstan('-o', 'json', 'backups', 'list', clusterId, '--state', 'succeeded')).stdout) as {
      items: { id: string; purpose: string; cluster_version: string }[];
    };
    const preUpgrade = before.items.find((b) => b.purpose === 'pre_upgrade')!;
    expect(preUpgrade.cluster_version).toMatch(/^1\.35\./);
    const restore = await capstan('backups', 'restore', clusterId, preUpgrade.id, '--scope', 'control_plane');
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain('another minor');
  }, 240_000);
});
