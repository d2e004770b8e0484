import type { KubeObject } from '../src/kube/types';

/**
 * A Pod in `default` as the workload models' unit tests build it: uid `uid-<name>` (so expected
 * target and owner references can name it), a Ready condition as `ready` says, and whatever
 * else each suite's pods carry in `metadata`, `spec` and `status`.
 */
export function testPod(
  name: string,
  parts: { ready: boolean; metadata?: Record<string, unknown>; spec?: Record<string, unknown>; status?: Record<string, unknown> },
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...parts.metadata },
    ...(parts.spec ? { spec: parts.spec } : {}),
    status: { ...parts.status, conditions: [{ type: 'Ready', status: parts.ready ? 'True' : 'False' }] },
  };
}
