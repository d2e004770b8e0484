import { loadConfig } from '@capstan/platform';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfiguredBackupDrivers } from './backup-driver';
import { backupDriverSources } from './backup-drivers.module';
import { ProviderError } from './cluster-provider';
import { Rke2BackupDriver } from './rke2/backup';

const env = {
  DATABASE_URL: 'postgresql://capstan@127.0.0.1:5432/capstan',
  REDIS_URL: 'redis://127.0.0.1:6379',
  SECRETS_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
};

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{ name: management, cluster: { server: 'https://127.0.0.1:6443' } }]
users: [{ name: capstan, user: { token: abc } }]
contexts: [{ name: capstan, context: { cluster: management, user: capstan } }]
current-context: capstan
`;

describe('backupDriverSources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rke2-backups-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('backs RKE2 clusters up through the configured management cluster, one driver per process', () => {
    const path = join(dir, 'management.yaml');
    writeFileSync(path, KUBECONFIG);
    const drivers = new ConfiguredBackupDrivers(backupDriverSources(loadConfig({ ...env, RKE2_MANAGEMENT_KUBECONFIG: path })));
    const driver = drivers.driverFor('rke2');
    expect(driver).toBeInstanceOf(Rke2BackupDriver);
    expect(drivers.driverFor('rke2')).toBe(driver);
  });

  it('fails RKE2 backup calls for good when no management cluster is configured, saying which setting', () => {
    const drivers = new ConfiguredBackupDrivers(backupDriverSources(loadConfig(env)));
    let caught: unknown;
    try {
      drivers.driverFor('rke2');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProviderError);
    expect((caught as ProviderError).retryable).toBe(false);
    expect((caught as ProviderError).message).toContain('RKE2_MANAGEMENT_KUBECONFIG');
  });

  it('stops the boot with one line when the kubeconfig cannot be read', () => {
    expect(() => backupDriverSources(loadConfig({ ...env, RKE2_MANAGEMENT_KUBECONFIG: join(dir, 'missing.yaml') }))).toThrow(
      /^RKE2_MANAGEMENT_KUBECONFIG: cannot read .*missing\.yaml \(ENOENT\)$/,
    );
  });
});
