import { clusterRequest, type Stack, testConfig, waitForOperation } from '@capstan/testing';

/** An SLA monitor's settings beside the stack: its database and Redis, any port, probes and flushes every 100 ms. */
export function monitorConfig(stack: Stack, env: Record<string, string> = {}) {
  return testConfig(stack.config.database.url, {
    ...stack.env,
    REDIS_URL: stack.config.redis.url,
    REDIS_PREFIX: stack.config.redis.prefix,
    SLA_MONITOR_PORT: '0',
    SLA_PROBE_INTERVAL_MS: '100',
    SLA_FLUSH_INTERVAL_MS: '100',
    ...env,
  });
}

/** Creates a cluster through the API as the customer holding `token`, and waits until its create succeeded. */
export async function runningCluster(stack: Stack, token: string, name: string): Promise<string> {
  const res = await stack.api.inject({
    method: 'POST',
    url: '/v1/clusters',
    headers: { authorization: `Bearer ${token}` },
    payload: clusterRequest({ name }),
  });
  await waitForOperation(stack.prisma, res.json().operation.id);
  return res.json().cluster.id as string;
}
