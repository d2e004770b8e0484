import { createCapstanClient } from '@capstan/sdk';
import { seedOrganization, type Stack, type StackOptions, startStack } from '@capstan/testing';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Client = ReturnType<typeof createCapstanClient>;
type Provider = 'rke2' | 'gke';

interface NodeList {
  items: { metadata: { name: string; labels: Record<string, string> }; status: { nodeInfo: { kubeletVersion: string } } }[];
}

/**
 * A suite on the real drivers against the emulators: one customer organisation and its SDK client,
 * a folder for kubeconfigs, and what such suites do through the API (create a cluster at a minor,
 * follow an operation to its end, read the cluster back with the real kubectl). Its fields are
 * set by the hooks {@link onDriverStack} registers.
 */
export class DriverSuite {
  stack!: Stack;
  client!: Client;
  token!: string;
  organizationId!: string;
  dir!: string;

  constructor(private readonly operationTimeoutMs = 180_000) {}

  /** Polls the operation through the API until it ends (or asks for a person). */
  async finished(operationId: string, timeoutMs = this.operationTimeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { data } = await this.client.GET('/v1/operations/{operation_id}', { params: { path: { operation_id: operationId } } });
      if (data && ['succeeded', 'failed', 'cancelled', 'needs_attention'].includes(data.status)) return data;
      if (Date.now() > deadline) throw new Error(`operation ${operationId} is still ${data?.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async kubectl(kubeconfig: string, ...args: string[]): Promise<string> {
    const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args], { env: { ...process.env, HOME: this.dir } });
    return stdout;
  }

  /** A kubeconfig issued now, written to the suite's folder: the path to pass to kubectl. */
  async kubeconfigOf(clusterId: string): Promise<string> {
    const { data } = await this.client.GET('/v1/clusters/{cluster_id}/kubeconfig', { params: { path: { cluster_id: clusterId } }, parseAs: 'text' });
    const file = join(this.dir, `${clusterId}.kubeconfig`);
    await writeFile(file, data as string, { mode: 0o600 });
    return file;
  }

  async nodes(clusterId: string): Promise<NodeList['items']> {
    return (JSON.parse(await this.kubectl(await this.kubeconfigOf(clusterId), 'get', 'nodes', '-o', 'json')) as NodeList).items;
  }

  async patchOf(provider: Provider, minor: string) {
    return (await this.client.GET('/v1/versions', {})).data!.items.find((v) => v.provider === provider && v.minor === minor)!.latest_patch;
  }

  /** A running cluster at the minor's latest patch, one node per pool; its create must succeed. */
  async createCluster(provider: Provider, name: string, minor: string, pools: string[] = ['apps']) {
    const created = await this.client.POST('/v1/clusters', {
      body: {
        name,
        provider,
        region: provider === 'rke2' ? 'nine-cz41' : 'europe-west6',
        version: await this.patchOf(provider, minor),
        node_pools: pools.map((pool) => ({ name: pool, machine_type: provider === 'rke2' ? 'nine-standard-2' : 'e2-standard-4', count: 1 })),
      },
    });
    expect(created.response.status).toBe(202);
    expect(await this.finished(created.data!.operation.id)).toMatchObject({ status: 'succeeded' });
    return created.data!.cluster.id;
  }

  async getCluster(clusterId: string) {
    return (await this.client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })).data!;
  }
}

/**
 * Registers, in the calling describe block, the hooks that start a driver stack (`stepDelayMs` 20
 * unless `stack` says otherwise) with the suite's organisation and folder, and stop and remove them.
 */
export function onDriverStack<S extends DriverSuite>(suite: S, dirPrefix: string, stack: StackOptions = {}): S {
  beforeAll(async () => {
    // A rollout on the emulators ends within seconds: the engine's poll backoff (up to 5 s in
    // production) would leave each wait idle for seconds after its change is done, so these suites
    // cap it (docs/operations-engine.md). What a wait observes is the same, only sooner.
    suite.stack = await startStack({ drivers: true, stepDelayMs: 20, ...stack, env: { WAIT_POLL_MAX_MS: '400', ...stack.env } });
    const org = await seedOrganization(suite.stack.prisma, { maxClusters: 10 });
    suite.token = org.token;
    suite.organizationId = org.organizationId;
    suite.client = createCapstanClient({ baseUrl: suite.stack.apiUrl, token: org.token, idempotencyKeys: true });
    suite.dir = await mkdtemp(join(tmpdir(), dirPrefix));
  }, 90_000);

  afterAll(async () => {
    await suite.stack?.stop();
    if (suite.dir) await rm(suite.dir, { recursive: true, force: true });
  });
  return suite;
}
