import { WORKSPACE_ROOT } from '@capstan/testing';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Runs the built entry points as real processes (npm test builds them first). */
describe.each(['api', 'worker', 'sla-monitor'])('the %s process', (app) => {
  const main = join(WORKSPACE_ROOT, 'dist', 'apps', app, 'src', 'main.js');

  it('stops with one line naming a malformed setting', () => {
    const result = spawnSync(process.execPath, [main], {
      env: {
        PATH: process.env.PATH,
        PORT: 'abc',
        WORKER_PORT: 'abc',
        SLA_MONITOR_PORT: 'abc',
        DATABASE_URL: 'postgresql://x@127.0.0.1/x',
        REDIS_URL: 'redis://127.0.0.1:6379',
        SECRETS_KEYS: `k:${Buffer.alloc(32).toString('base64')}`,
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('Invalid configuration: PORT must be a number (got "abc")\n');
  });

  it('stops with one line naming a missing setting', () => {
    const result = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 20_000 });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual(['Invalid configuration: DATABASE_URL is required: is not set']);
  });

  it('stops with one line when the management kubeconfig cannot be read', () => {
    const result = spawnSync(process.execPath, [main], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: 'postgresql://x@127.0.0.1/x',
        REDIS_URL: 'redis://127.0.0.1:6379',
        SECRETS_KEYS: `k:${Buffer.alloc(32).toString('base64')}`,
        RKE2_MANAGEMENT_KUBECONFIG: '/nonexistent/management.kubeconfig',
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('Invalid configuration: RKE2_MANAGEMENT_KUBECONFIG does not exist: /nonexistent/management.kubeconfig\n');
  });
});
