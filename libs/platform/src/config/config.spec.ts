import { ConfigError, loadConfig } from './config';

const valid = {
  DATABASE_URL: 'postgresql://capstan:s3cret@db.internal:5432/capstan',
  REDIS_URL: 'redis://127.0.0.1:6379',
  SECRETS_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
};

function errorFor(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives each concern its typed settings, with defaults for the optional ones', () => {
    const config = loadConfig(valid);
    expect(config.http.apiPort).toBe(8080);
    expect(config.http.publicUrl).toBe('http://127.0.0.1:8080');
    expect(config.database.url).toBe(valid.DATABASE_URL);
    expect(config.secrets.keyring[0]?.id).toBe('k1');
    expect(config.provider.driver).toBe('drivers');
  });

  it('sends RKE2 etcd snapshots to S3 only when a bucket is set, with RKE2 endpoint default', () => {
    expect(loadConfig(valid).rke2.etcdS3).toBeNull();
    expect(loadConfig({ ...valid, RKE2_ETCD_S3_BUCKET: 'capstan-etcd', RKE2_ETCD_S3_FOLDER: 'zrh' }).rke2.etcdS3).toEqual({
      endpoint: 's3.amazonaws.com',
      bucket: 'capstan-etcd',
      folder: 'zrh',
    });
    expect(errorFor({ ...valid, RKE2_ETCD_S3_BUCKET: 'capstan-etcd', RKE2_ETCD_S3_ENDPOINT: 'https://objects.example.ch' }).setting).toBe(
      'RKE2_ETCD_S3_ENDPOINT',
    );
  });

  it('names a malformed setting in one line', () => {
    const error = errorFor({ ...valid, PORT: 'abc' });
    expect(error.setting).toBe('PORT');
    expect(error.message).toBe('Invalid configuration: PORT must be a number (got "abc")');
    expect(error.message).not.toContain('\n');
  });

  it('names a missing required setting', () => {
    const error = errorFor({ ...valid, DATABASE_URL: undefined });
    expect(error.setting).toBe('DATABASE_URL');
    expect(error.message).toContain('is required');
  });

  it('treats a blank setting as unset', () => {
    expect(errorFor({ ...valid, REDIS_URL: '' }).setting).toBe('REDIS_URL');
  });

  it('checks GKE drift every 15 minutes unless told otherwise, 0 meaning off, and names a bad interval in one line', () => {
    expect(loadConfig(valid).gke.driftCheckMinutes).toBe(15);
    expect(loadConfig({ ...valid, GKE_DRIFT_CHECK_MINUTES: '0' }).gke.driftCheckMinutes).toBe(0);
    expect(loadConfig({ ...valid, GKE_DRIFT_CHECK_MINUTES: '60' }).gke.driftCheckMinutes).toBe(60);
    expect(errorFor({ ...valid, GKE_DRIFT_CHECK_MINUTES: '2000' }).message).toBe(
      'Invalid configuration: GKE_DRIFT_CHECK_MINUTES must be 0 (off) or 1 to 1440 minutes (got "2000")',
    );
    expect(errorFor({ ...valid, GKE_DRIFT_CHECK_MINUTES: '7.5' }).message).toBe(
      'Invalid configuration: GKE_DRIFT_CHECK_MINUTES must be a whole number of minutes (got "7.5")',
    );
    expect(errorFor({ ...valid, GKE_DRIFT_CHECK_MINUTES: 'hourly' }).message).toBe(
      'Invalid configuration: GKE_DRIFT_CHECK_MINUTES must be a number of minutes (got "hourly")',
    );
  });

  it('refuses ports out of range', () => {
    expect(errorFor({ ...valid, PORT: '70000' }).message).toContain('between 0 and 65535');
  });

  it('never echoes secret material or URL credentials back', () => {
    expect(errorFor({ ...valid, SECRETS_KEYS: 'k1:short' }).message).toBe(
      'Invalid configuration: SECRETS_KEYS must be keyId:base64 pairs of 32-byte keys (got "<redacted>")',
    );
    const urlError = errorFor({ ...valid, DATABASE_URL: 'mysql://root:hunter2@db/x' });
    expect(urlError.message).not.toContain('hunter2');
    expect(urlError.message).toContain('must be a postgresql:// URL');
  });
});
