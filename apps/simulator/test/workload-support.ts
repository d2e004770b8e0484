import type { ApiServerClient, KubeObject } from '../src/kube/types';
import { nodeObject } from '../src/kube/controllers/workload';

/** Polls until `probe` answers something truthy; on timeout fails with the last answer, so a stuck test says where. */
export async function eventually<T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
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

export async function addNodes(server: ApiServerClient, names: string[], kubeletVersion = 'v1.36.4+rke2r1'): Promise<void> {
  for (const name of names) await server.create(nodeObject({ name, kubeletVersion, labels: { 'node-role.kubernetes.io/worker': 'true' } }));
}

export const podsOf = async (server: ApiServerClient, namespace: string, labelSelector: string): Promise<KubeObject[]> =>
  (await server.list('v1', 'Pod', { namespace, labelSelector })).filter((p) => !p.metadata.deletionTimestamp);

export const isRunningReady = (pod: KubeObject) =>
  pod.status?.['phase'] === 'Running' &&
  ((pod.status?.['conditions'] as { type: string; status: string }[] | undefined) ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export function deployment(name: string, replicas: number, image = 'nginx:1.27'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image }] } },
    },
  };
}
