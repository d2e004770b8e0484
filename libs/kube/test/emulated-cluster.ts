import type { ClusterAccess } from '@capstan/providers';
import { type ApiServerClient, type KubeObject, kubeconfigYaml, type RunningSimulator, startSimulator } from '@capstan/simulator';
import { createTestDatabase, type KubectlResult, kubectlRunner, type TestDatabase } from '@capstan/testing';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One simulator on this test file's own database, with workload API servers made on demand. */
export interface EmulatedClusters {
  simulator: RunningSimulator;
  /** A workload API server of `version` (distribution form: `1.31.4+rke2r1`) with Capstan's admin access to it. */
  cluster(name: string, version: string, distribution?: 'rke2' | 'gke'): Promise<{ access: ClusterAccess; server: ApiServerClient }>;
  /** Runs the real kubectl with a kubeconfig for `name` and `token`. */
  kubectl(name: string, token: string, ...args: string[]): Promise<KubectlResult>;
  close(): Promise<void>;
}

export async function startEmulatedClusters(): Promise<EmulatedClusters> {
  const db: TestDatabase = await createTestDatabase();
  const simulator = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, stepDelayMs: 0 });
  const dir = await mkdtemp(join(tmpdir(), 'capstan-kube-'));
  const kube = simulator.kube;
  return {
    simulator,
    async cluster(name, version, distribution = 'rke2') {
      await kube.ensureApiServer({ name, role: 'workload', distribution, version });
      const { token, expiresAt } = await kube.issueToken(name, { subject: 'capstan-admin', ttlSeconds: null });
      return {
        server: kube.server(name),
        access: { server: kube.url, tlsServerName: `${name}.${kube.kubeDomain}`, caCertificate: kube.caCertificatePem, token, expiresAt },
      };
    },
    async kubectl(name, token, ...args) {
      const kubeconfig = join(dir, `${name}-${Math.random().toString(36).slice(2)}.yaml`);
      await writeFile(kubeconfig, kubeconfigYaml({ name, url: kube.url, kubeDomain: kube.kubeDomain, caCertificatePem: kube.caCertificatePem, token }));
      try {
        return await kubectlRunner(kubeconfig, dir)(...args);
      } finally {
        await rm(kubeconfig, { force: true });
      }
    },
    async close() {
      await simulator.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `probe` answers something truthy; on timeout fails with the last answer. */
export async function eventually<T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const answer = await probe();
      if (answer) return answer;
      last = answer;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const livePods = async (server: ApiServerClient, namespace: string, labelSelector: string): Promise<KubeObject[]> =>
  (await server.list('v1', 'Pod', { namespace, labelSelector })).filter((p) => !p.metadata.deletionTimestamp);

export const isRunning = (pod: KubeObject) => pod.status?.['phase'] === 'Running';

/** A Ready worker Node as its kubelet registers it (what the emulated scheduler needs to place pods). */
export function readyNode(name: string, kubeletVersion: string): KubeObject {
  const now = new Date().toISOString();
  const capacity = { cpu: '4', memory: '16386616Ki', pods: '110', 'ephemeral-storage': '101430960Ki' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/worker': 'true' } },
    spec: {},
    status: {
      capacity,
      allocatable: capacity,
      conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
      ],
      nodeInfo: { kubeletVersion, containerRuntimeVersion: 'containerd://2.0.5-k3s1', operatingSystem: 'linux', architecture: 'amd64' },
    },
  };
}
