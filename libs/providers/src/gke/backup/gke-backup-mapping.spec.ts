import { loadConfig } from '@capstan/platform';
import { ConfiguredBackupDrivers } from '../../backup-driver';
import { backupDriverSources } from '../../backup-drivers.module';
import { ProviderError } from '../../cluster-provider';
import { RPC, toProviderError } from '../gke-mapping';
import { GkeBackupDriver } from './gke-backup-driver';
import {
  backupConfigOf,
  backupPlanIdOf,
  providerBackupOf,
  resourceIdOf,
  resourceStatus,
  restError,
  restoreConfigOf,
  restorePlanIdOf,
} from './gke-backup-mapping';

const ID = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

describe('Backup for GKE mapping', () => {
  it('derives resource ids Backup for GKE accepts from Capstan ids, the same on every call', () => {
    expect(resourceIdOf('bk_01jbackupone0000000000000')).toBe('bk-01jbackupone0000000000000');
    expect(resourceIdOf('op_01JABC')).toBe('op-01jabc');
    expect(resourceIdOf('9lives_')).toMatch(ID);
    expect(resourceIdOf('x'.repeat(80))).toHaveLength(63);
    const cluster = `capstan-${'0'.repeat(26)}`;
    expect(backupPlanIdOf(cluster, 'all')).toMatch(ID);
    expect(backupPlanIdOf(cluster, 'all')).toBe(backupPlanIdOf(cluster, 'all'));
    expect(backupPlanIdOf(cluster, 'all')).not.toBe(backupPlanIdOf(cluster, 'ns:orders'));
    expect(restorePlanIdOf(cluster, 'projects/p/locations/l/backupPlans/a', ['b', 'a'])).toBe(
      restorePlanIdOf(cluster, 'projects/p/locations/l/backupPlans/a', ['a', 'b']),
    );
  });

  it('turns a scope into a BackupConfig: all namespaces, or the sorted list, with Secrets and volumes', () => {
    expect(backupConfigOf({ includedNamespaces: [], excludedNamespaces: [] })).toEqual({
      config: { allNamespaces: true, includeSecrets: true, includeVolumeData: true },
      scopeKey: 'all',
    });
    expect(backupConfigOf({ includedNamespaces: ['web', 'api', 'web'], excludedNamespaces: ['kube-system'] })).toEqual({
      config: { selectedNamespaces: { namespaces: ['api', 'web'] }, includeSecrets: true, includeVolumeData: true },
      scopeKey: 'ns:api,web',
    });
  });

  it('refuses label selectors and exclusions of namespaces a restore would bring back', () => {
    expect(() => backupConfigOf({ includedNamespaces: [], excludedNamespaces: [], labelSelector: 'app=web' })).toThrow(
      expect.objectContaining({ code: 'backup-scope-unsupported', retryable: false }),
    );
    expect(() => backupConfigOf({ includedNamespaces: [], excludedNamespaces: ['kube-system', 'staging'] })).toThrow(/excluding staging/);
  });

  it('asks restores to revert the namespaces (DELETE_AND_RESTORE) and to add missing cluster-scoped resources only', () => {
    expect(restoreConfigOf([])).toMatchObject({
      allNamespaces: true,
      namespacedResourceRestoreMode: 'DELETE_AND_RESTORE',
      clusterResourceConflictPolicy: 'USE_EXISTING_VERSION',
    });
    expect(restoreConfigOf(['b', 'a'])).toMatchObject({ selectedNamespaces: { namespaces: ['a', 'b'] } });
  });

  it('reports a Backup’s state, size and completion for the port', () => {
    const name = 'projects/p/locations/l/backupPlans/x/backups/bk-1';
    expect(providerBackupOf('bk_1', { name, state: 'SUCCEEDED', sizeBytes: '12345', completeTime: '2026-12-05T01:00:00Z' })).toEqual({
      backupId: 'bk_1',
      state: 'succeeded',
      location: name,
      sizeBytes: 12345n,
      completedAt: new Date('2026-12-05T01:00:00Z'),
    });
    expect(providerBackupOf('bk_1', { name, state: 'IN_PROGRESS' })).toMatchObject({ state: 'running', sizeBytes: null, completedAt: null });
    expect(providerBackupOf('bk_1', { name, state: 'FAILED', stateReason: 'agent unreachable' })).toMatchObject({
      state: 'failed',
      error: 'agent unreachable',
    });
    expect(resourceStatus('restore', { name, state: 'VALIDATING' })).toEqual({ done: false, progress: 'restore validating' });
    expect(resourceStatus('backup', { name, state: 'FAILED' })).toMatchObject({ done: true, error: { retryable: false, code: 'gke_backup_failed' } });
  });

  it('reads google.rpc.Status bodies: transient codes retry, refusals do not', () => {
    const unavailable = toProviderError(
      Object.assign(new Error('x'), restError(503, { error: { code: 503, status: 'UNAVAILABLE', message: 'try later' } })),
      'x',
    );
    expect(unavailable).toMatchObject({ retryable: true, code: 'gke_unavailable' });
    expect(restError(409, { error: { status: 'ALREADY_EXISTS', message: 'exists' } })).toEqual({ code: RPC.ALREADY_EXISTS, message: 'exists' });
    expect(restError(400, { error: { status: 'FAILED_PRECONDITION' } }).code).toBe(RPC.FAILED_PRECONDITION);
    expect(restError(502, 'not json')).toEqual({ code: RPC.UNAVAILABLE, message: 'HTTP 502' });
  });
});

describe('the GKE backup driver source', () => {
  const env = {
    DATABASE_URL: 'postgresql://capstan@127.0.0.1:5432/capstan',
    REDIS_URL: 'redis://127.0.0.1:6379',
    SECRETS_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  };

  it('says why there is none without a GKE project, as a final error when a backup needs it', () => {
    const drivers = new ConfiguredBackupDrivers(backupDriverSources(loadConfig(env).rke2, loadConfig(env).gke));
    expect(() => drivers.driverFor('gke')).toThrow(ProviderError);
    expect(() => drivers.driverFor('gke')).toThrow(/GKE_PROJECT/);
  });

  it('builds the Backup for GKE driver from the GKE settings and GKE_BACKUP_API_ENDPOINT', async () => {
    const loaded = loadConfig({ ...env, GKE_PROJECT: 'capstan-prod', GKE_ACCESS_TOKEN: 'ya29.x', GKE_BACKUP_API_ENDPOINT: 'http://127.0.0.1:8091/' });
    const config = loaded.gke;
    expect(config.backupApiEndpoint).toBe('http://127.0.0.1:8091');
    expect(loadConfig({ ...env }).gke.backupApiEndpoint).toBe('https://gkebackup.googleapis.com');
    const driver = new ConfiguredBackupDrivers(backupDriverSources(loaded.rke2, config)).driverFor('gke');
    expect(driver).toBeInstanceOf(GkeBackupDriver);
    await (driver as GkeBackupDriver).close();
    expect(() => loadConfig({ ...env, GKE_BACKUP_API_ENDPOINT: 'http://127.0.0.1:8091/v1' })).toThrow('GKE_BACKUP_API_ENDPOINT must be a scheme and host');
  });
});
