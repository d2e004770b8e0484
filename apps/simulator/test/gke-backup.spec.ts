import { createTestDatabase, eventually, type TestDatabase } from '@capstan/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type RunningSimulator, startSimulator } from '../src';

const run = promisify(execFile);
const PROJECT = 'capstan-backup-test';
const LOCATION = 'europe-west6';
const parent = `projects/${PROJECT}/locations/${LOCATION}`;

interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
}
interface Operation {
  name: string;
  done: boolean;
  metadata: { target: string; verb: string };
  error?: { code: number; message: string };
  response?: Record<string, unknown>;
}

/**
 * The emulated Backup for GKE API (gkebackup.googleapis.com v1) on the GKE emulator's port, over
 * HTTP as a REST client sees it, and what it does for real: a backup captures the cluster's objects
 * of its namespaces when it is taken, a restore writes them back, and the real kubectl sees it.
 */
describe('the emulated Backup for GKE API', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let token: string;
  let dir: string;
  let kubeconfig: string;

  const gke = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>> => {
    const response = await fetch(`${sim.gkeUrl}/v1/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  const finished = async (operation: Operation) => {
    await eventually(async () => (await gke<Operation>('GET', operation.name)).body.done, 20_000, 25);
    return (await gke<Operation>('GET', operation.name)).body;
  };
  const settled = async <T extends { state: string }>(path: string, states: string[]) => {
    await eventually(async () => states.includes((await gke<T>('GET', path)).body.state), 20_000, 25);
    return (await gke<T>('GET', path)).body;
  };
  const kubectl = async (...args: string[]) => {
    try {
      const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args], { env: { ...process.env, HOME: dir } });
      return stdout;
    } catch (error) {
      throw new Error(`kubectl ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`);
    }
  };
  const apply = (name: string, manifest: string) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, manifest);
    return kubectl('apply', '-f', file);
  };
  // Without kube-root-ca.crt: each namespace's own, made by the cluster's controllers whenever they get to it.
  const names = async (kind: string, namespace: string) =>
    (await kubectl('get', kind, '-n', namespace, '-o', 'name'))
      .trim()
      .split('\n')
      .filter((n) => n && n !== 'configmap/kube-root-ca.crt')
      .sort();

  beforeAll(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, gkePort: 0, stepDelayMs: 50 });
    const issued = await fetch(`${sim.gkeUrl}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }) });
    token = ((await issued.json()) as { access_token: string }).access_token;

    const created = await gke('POST', `${parent}/clusters`, {
      cluster: {
        name: 'shop',
        initialClusterVersion: '1.35.8-gke.1225000',
        nodePools: [{ name: 'system', initialNodeCount: 1, locations: ['europe-west6-b'] }],
      },
    });
    expect(created.status).toBe(200);
    await eventually(async () => (await gke<{ status: string }>('GET', `${parent}/clusters/shop`)).body.status === 'RUNNING', 20_000, 25);

    const clusterToken = await fetch(`${sim.gkeUrl}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${parent}/clusters/shop` }),
    });
    const access = ((await clusterToken.json()) as { access_token: string }).access_token;
    dir = mkdtempSync(join(tmpdir(), 'gke-backup-'));
    kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: gke\n  cluster:\n    server: ${sim.kubeUrl}\n    tls-server-name: shop.clusters.simulator.capstan.test\n    certificate-authority-data: ${Buffer.from(sim.caCertificate).toString('base64')}`,
        `users:\n- name: capstan\n  user:\n    token: ${access}`,
        'contexts:\n- name: gke\n  context:\n    cluster: gke\n    user: capstan',
        'current-context: gke',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('backs up a namespace, and a DELETE_AND_RESTORE restore brings back exactly what the backup held', async () => {
    // Given objects in two namespaces.
    await apply(
      'before',
      [
        'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    team: payments',
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: prices\n  namespace: shop\ndata:\n  coffee: "4.20"',
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: card-key\n  namespace: shop\ndata:\n  key: czNjcjN0',
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27',
        'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other',
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: untouched\n  namespace: other',
      ].join('\n---\n'),
    );
    await eventually(async () => (await kubectl('get', 'deployment', 'web', '-n', 'shop', '-o', 'jsonpath={.status.readyReplicas}')) === '1', 30_000, 100);

    // A plan for the namespace, with Secrets: PROVISIONING, then READY.
    const planOp = await gke<Operation>('POST', `${parent}/backupPlans?backupPlanId=shop-plan`, {
      cluster: `${parent}/clusters/shop`,
      backupConfig: { selectedNamespaces: { namespaces: ['shop'] }, includeSecrets: true, includeVolumeData: true },
      retentionPolicy: { backupRetainDays: 30, backupDeleteLockDays: 0 },
    });
    expect(planOp.status).toBe(200);
    expect(planOp.body).toMatchObject({ done: false, metadata: { target: `${parent}/backupPlans/shop-plan`, verb: 'create', apiVersion: 'v1' } });
    expect((await finished(planOp.body)).response).toMatchObject({
      '@type': 'type.googleapis.com/google.cloud.gkebackup.v1.BackupPlan',
      name: `${parent}/backupPlans/shop-plan`,
    });
    await settled(`${parent}/backupPlans/shop-plan`, ['READY']);

    // The backup: its objects are those of the moment it is taken.
    const backupOp = await gke<Operation>('POST', `${parent}/backupPlans/shop-plan/backups?backupId=nightly-1`, { labels: { by: 'test' } });
    expect(backupOp.status).toBe(200);
    expect((await gke('POST', `${parent}/backupPlans/shop-plan/backups?backupId=nightly-1`, {})).status).toBe(409);
    await finished(backupOp.body);
    const backup = await settled<{ state: string }>(`${parent}/backupPlans/shop-plan/backups/nightly-1`, ['SUCCEEDED', 'FAILED']);
    expect(backup).toMatchObject({
      state: 'SUCCEEDED',
      manual: true,
      selectedNamespaces: { namespaces: ['shop'] },
      containsSecrets: true,
      retainDays: 30,
      clusterMetadata: { cluster: `${parent}/clusters/shop`, k8sVersion: 'v1.35.8', gkeVersion: '1.35.8-gke.1225000' },
      sizeBytes: expect.stringMatching(/^[1-9]\d*$/),
      podCount: 1,
    });

    // Then the namespace changes: an object added, one removed, one changed.
    await apply('after', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: promotions\n  namespace: shop\ndata:\n  coffee: "free"');
    await kubectl('delete', 'configmap', 'prices', '-n', 'shop');
    await kubectl('scale', 'deployment/web', '-n', 'shop', '--replicas=3');
    expect(await names('configmaps', 'shop')).toEqual(['configmap/promotions']);

    // A restore plan that reverts the namespace, and a restore.
    const restorePlan = await gke<Operation>('POST', `${parent}/restorePlans?restorePlanId=shop-revert`, {
      backupPlan: `${parent}/backupPlans/shop-plan`,
      cluster: `${parent}/clusters/shop`,
      restoreConfig: {
        allNamespaces: true,
        namespacedResourceRestoreMode: 'DELETE_AND_RESTORE',
        volumeDataRestorePolicy: 'RESTORE_VOLUME_DATA_FROM_BACKUP',
        clusterResourceConflictPolicy: 'USE_EXISTING_VERSION',
        clusterResourceRestoreScope: { allGroupKinds: true },
      },
    });
    expect(restorePlan.status).toBe(200);
    await finished(restorePlan.body);
    const restoreOp = await gke<Operation>('POST', `${parent}/restorePlans/shop-revert/restores?restoreId=revert-1`, {
      backup: `${parent}/backupPlans/shop-plan/backups/nightly-1`,
    });
    expect(restoreOp.status).toBe(200);
    await finished(restoreOp.body);
    const restore = await settled<{ state: string }>(`${parent}/restorePlans/shop-revert/restores/revert-1`, ['SUCCEEDED', 'FAILED']);
    expect(restore).toMatchObject({ state: 'SUCCEEDED', cluster: `${parent}/clusters/shop`, resourcesFailedCount: 0 });
    expect((restore as unknown as { resourcesRestoredCount: number }).resourcesRestoredCount).toBeGreaterThanOrEqual(4);

    // kubectl sees the backup's objects and not those made after it.
    expect(await names('configmaps', 'shop')).toEqual(['configmap/prices']);
    expect(await kubectl('get', 'configmap', 'prices', '-n', 'shop', '-o', 'jsonpath={.data.coffee}')).toBe('4.20');
    expect(await kubectl('get', 'secret', 'card-key', '-n', 'shop', '-o', 'jsonpath={.data.key}')).toBe(Buffer.from('s3cr3t').toString('base64'));
    expect(await kubectl('get', 'namespace', 'shop', '-o', 'jsonpath={.metadata.labels.team}')).toBe('payments');
    expect(await kubectl('get', 'deployment', 'web', '-n', 'shop', '-o', 'jsonpath={.spec.replicas}')).toBe('1');
    // The Deployment's controller makes its Pods again: one, as in the backup.
    await eventually(async () => (await names('pods', 'shop')).length === 1, 30_000, 100);
    // What was outside the backup's scope stays as it was.
    expect(await names('configmaps', 'other')).toEqual(['configmap/untouched']);
  });

  it('refuses what Backup for GKE refuses, with google.rpc.Status bodies', async () => {
    const noMode = await gke<{ error: { status: string; message: string } }>('POST', `${parent}/restorePlans?restorePlanId=no-mode`, {
      backupPlan: `${parent}/backupPlans/shop-plan`,
      cluster: `${parent}/clusters/shop`,
      restoreConfig: { allNamespaces: true },
    });
    expect(noMode.status).toBe(400);
    expect(noMode.body.error).toMatchObject({ status: 'INVALID_ARGUMENT', message: expect.stringContaining('namespacedResourceRestoreMode') });

    const twoScopes = await gke<{ error: { status: string } }>('POST', `${parent}/backupPlans?backupPlanId=two-scopes`, {
      cluster: `${parent}/clusters/shop`,
      backupConfig: { allNamespaces: true, selectedNamespaces: { namespaces: ['shop'] } },
    });
    expect(twoScopes.status).toBe(400);

    const badId = await gke<{ error: { status: string } }>('POST', `${parent}/backupPlans?backupPlanId=Bad_Id`, { cluster: `${parent}/clusters/shop` });
    expect(badId.body.error.status).toBe('INVALID_ARGUMENT');

    const ghost = await gke<{ error: { status: string } }>('POST', `${parent}/backupPlans?backupPlanId=ghost`, { cluster: `${parent}/clusters/ghost` });
    expect(ghost.status).toBe(404);
    expect((await gke('GET', `${parent}/backupPlans/shop-plan/backups/nope`)).status).toBe(404);
  });

  it('merges on MERGE_SKIP_ON_CONFLICT (what exists stays) and MERGE_REPLACE_ON_CONFLICT (the backup’s version wins)', async () => {
    await kubectl('patch', 'configmap', 'prices', '-n', 'shop', '--type=merge', '-p', '{"data":{"coffee":"9.99"}}');
    await apply('extra', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: shop');
    const restoreWith = async (mode: string) => {
      const plan = await gke<Operation>('POST', `${parent}/restorePlans?restorePlanId=shop-${mode.toLowerCase().replace(/_/g, '-')}`, {
        backupPlan: `${parent}/backupPlans/shop-plan`,
        cluster: `${parent}/clusters/shop`,
        restoreConfig: { selectedNamespaces: { namespaces: ['shop'] }, namespacedResourceRestoreMode: mode },
      });
      expect(plan.status).toBe(200);
      await finished(plan.body);
      const planId = plan.body.metadata.target.split('/').pop()!;
      const op = await gke<Operation>('POST', `${parent}/restorePlans/${planId}/restores?restoreId=merge-1`, {
        backup: `${parent}/backupPlans/shop-plan/backups/nightly-1`,
      });
      await finished(op.body);
      return settled<{ state: string }>(`${parent}/restorePlans/${planId}/restores/merge-1`, ['SUCCEEDED', 'FAILED']);
    };

    expect(await restoreWith('MERGE_SKIP_ON_CONFLICT')).toMatchObject({ state: 'SUCCEEDED' });
    expect(await kubectl('get', 'configmap', 'prices', '-n', 'shop', '-o', 'jsonpath={.data.coffee}')).toBe('9.99');

    expect(await restoreWith('MERGE_REPLACE_ON_CONFLICT')).toMatchObject({ state: 'SUCCEEDED' });
    expect(await kubectl('get', 'configmap', 'prices', '-n', 'shop', '-o', 'jsonpath={.data.coffee}')).toBe('4.20');
    // Merging keeps what the backup does not hold.
    expect(await names('configmaps', 'shop')).toEqual(['configmap/extra', 'configmap/prices']);
  });

  it('fails a FAIL_ON_CONFLICT restore into namespaces that exist, naming them', async () => {
    const plan = await gke<Operation>('POST', `${parent}/restorePlans?restorePlanId=shop-strict`, {
      backupPlan: `${parent}/backupPlans/shop-plan`,
      cluster: `${parent}/clusters/shop`,
      restoreConfig: { selectedNamespaces: { namespaces: ['shop'] }, namespacedResourceRestoreMode: 'FAIL_ON_CONFLICT' },
    });
    await finished(plan.body);
    const op = await gke<Operation>('POST', `${parent}/restorePlans/shop-strict/restores?restoreId=strict-1`, {
      backup: `${parent}/backupPlans/shop-plan/backups/nightly-1`,
    });
    await finished(op.body);
    const restore = await settled<{ state: string; stateReason?: string }>(`${parent}/restorePlans/shop-strict/restores/strict-1`, ['SUCCEEDED', 'FAILED']);
    expect(restore).toMatchObject({ state: 'FAILED', stateReason: expect.stringContaining('shop') });
  });

  it('fails a backup taken while the cluster’s API server does not answer, saying so', async () => {
    await sim.kube.updateApiServer('shop', { serving: false });
    try {
      const op = await gke<Operation>('POST', `${parent}/backupPlans/shop-plan/backups?backupId=while-down`, {});
      expect(op.status).toBe(200);
      await finished(op.body);
      const backup = await settled<{ state: string; stateReason?: string; resourceCount: number }>(`${parent}/backupPlans/shop-plan/backups/while-down`, [
        'SUCCEEDED',
        'FAILED',
      ]);
      expect(backup).toMatchObject({ state: 'FAILED', stateReason: expect.stringContaining('could not reach its API server'), resourceCount: 0 });
    } finally {
      await sim.kube.updateApiServer('shop', { serving: true });
    }
    const refused = await gke<{ error: { status: string; message: string } }>('POST', `${parent}/restorePlans/shop-revert/restores?restoreId=from-failed`, {
      backup: `${parent}/backupPlans/shop-plan/backups/while-down`,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ status: 'FAILED_PRECONDITION', message: expect.stringContaining('only a SUCCEEDED backup') });
  });

  it('deletes a backup through DELETING, and keeps a delete-locked one', async () => {
    const locked = await gke<Operation>('POST', `${parent}/backupPlans/shop-plan/backups?backupId=locked-1`, { deleteLockDays: 7, retainDays: 30 });
    await finished(locked.body);
    const refused = await gke<{ error: { status: string } }>('DELETE', `${parent}/backupPlans/shop-plan/backups/locked-1`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.status).toBe('FAILED_PRECONDITION');

    const deleting = await gke<Operation>('DELETE', `${parent}/backupPlans/shop-plan/backups/nightly-1`);
    expect(deleting.status).toBe(200);
    expect(deleting.body.metadata.verb).toBe('delete');
    await eventually(async () => (await gke('GET', `${parent}/backupPlans/shop-plan/backups/nightly-1`)).status === 404, 20_000, 25);
    const list = await gke<{ backups: { name: string }[] }>('GET', `${parent}/backupPlans/shop-plan/backups`);
    expect(list.body.backups.map((b) => b.name).sort()).toEqual([
      `${parent}/backupPlans/shop-plan/backups/locked-1`,
      `${parent}/backupPlans/shop-plan/backups/while-down`,
    ]);
  });

  it('refuses a restore into a cluster of an older minor, as Google allows the backup’s minor up to three newer', async () => {
    await gke('POST', `${parent}/clusters`, {
      cluster: { name: 'old-shop', initialClusterVersion: '1.34', nodePools: [{ name: 'system', initialNodeCount: 1, locations: ['europe-west6-b'] }] },
    });
    await eventually(async () => (await gke<{ status: string }>('GET', `${parent}/clusters/old-shop`)).body.status === 'RUNNING', 20_000, 25);
    const plan = await gke<Operation>('POST', `${parent}/restorePlans?restorePlanId=to-old-shop`, {
      backupPlan: `${parent}/backupPlans/shop-plan`,
      cluster: `${parent}/clusters/old-shop`,
      restoreConfig: { allNamespaces: true, namespacedResourceRestoreMode: 'DELETE_AND_RESTORE' },
    });
    await finished(plan.body);
    const refused = await gke<{ error: { status: string; message: string } }>('POST', `${parent}/restorePlans/to-old-shop/restores?restoreId=downgrade`, {
      backup: `${parent}/backupPlans/shop-plan/backups/locked-1`,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ status: 'FAILED_PRECONDITION', message: expect.stringContaining('restores only into 1.35 to 1.38') });
  });
});
