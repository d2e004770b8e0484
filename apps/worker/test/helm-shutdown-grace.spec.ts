import { loadConfig } from '@capstan/platform';
import { WORKSPACE_ROOT } from '@capstan/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * The worker's shutdown grace and the pod's terminationGracePeriodSeconds must agree: a pod killed
 * before its worker handed its operations back would leave them to lease expiry. Read from the
 * chart's files (no helm binary here).
 */
const chart = join(WORKSPACE_ROOT, 'deploy', 'helm', 'capstan');
const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as { worker: { shutdownGraceMs: number; terminationGracePeriodSeconds: number } };
const template = readFileSync(join(chart, 'templates', 'deployment-worker.yaml'), 'utf8');

/** Closing the HTTP server, the pool and Redis after the grace: a few seconds, with a margin. */
const CLOSE_MARGIN_MS = 10_000;

describe('the Helm chart and the worker agree on the shutdown grace', () => {
  it('sets the worker pod grace period from values, longer than the worker grace plus closing', () => {
    expect(template).toMatch(/^\s*terminationGracePeriodSeconds: \{\{ \.Values\.worker\.terminationGracePeriodSeconds \}\}$/m);
    expect(values.worker.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(values.worker.shutdownGraceMs + CLOSE_MARGIN_MS);
  });

  it('passes the chart grace to the worker as WORKER_SHUTDOWN_GRACE_MS, which the config reads', () => {
    expect(template).toMatch(/- name: WORKER_SHUTDOWN_GRACE_MS\s+value: \{\{ \.Values\.worker\.shutdownGraceMs \| quote \}\}/);
    const env = {
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/x',
      REDIS_URL: 'redis://127.0.0.1:6379',
      SECRETS_KEYS: `k1:${Buffer.alloc(32).toString('base64')}`,
    };
    expect(loadConfig({ ...env, WORKER_SHUTDOWN_GRACE_MS: String(values.worker.shutdownGraceMs) }).engine.shutdownGraceMs).toBe(values.worker.shutdownGraceMs);
    // The default without the chart fits the chart's period too (a chart that forgets the variable).
    expect(loadConfig(env).engine.shutdownGraceMs + CLOSE_MARGIN_MS).toBeLessThanOrEqual(values.worker.terminationGracePeriodSeconds * 1000);
  });
});
