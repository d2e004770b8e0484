import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';
import { preflight } from './preflight';

const base = {
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/x',
  REDIS_URL: 'redis://127.0.0.1:6379',
  SECRETS_KEYS: `k1:${Buffer.alloc(32).toString('base64')}`,
};

describe('preflight', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'capstan-preflight-'));
    writeFileSync(join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const check = (path?: string) => preflight(loadConfig(path ? { ...base, RKE2_MANAGEMENT_KUBECONFIG: path } : base))?.message;

  it('passes without a management kubeconfig, and with a readable one', () => {
    expect(check()).toBeUndefined();
    expect(check(join(dir, 'kubeconfig'))).toBeUndefined();
  });

  it('names the setting and the path in one line when the kubeconfig is missing or a directory', () => {
    expect(check(join(dir, 'absent'))).toBe(`Invalid configuration: RKE2_MANAGEMENT_KUBECONFIG does not exist: ${join(dir, 'absent')}`);
    // What a Docker bind mount of a missing host file leaves in the container.
    expect(check(dir)).toBe(`Invalid configuration: RKE2_MANAGEMENT_KUBECONFIG is a directory, not a kubeconfig file: ${dir}`);
  });
});
