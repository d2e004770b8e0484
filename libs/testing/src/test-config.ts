import { randomBytes } from 'node:crypto';
import { type CapstanConfig, loadConfig } from '@capstan/platform';
import { TEST_REDIS_URL } from './test-env';

/** A valid config for tests: own database, own Redis key prefix, a throwaway secrets key. */
export function testConfig(databaseUrl: string, overrides: Record<string, string> = {}): CapstanConfig {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `capstan-test-${randomBytes(4).toString('hex')}`,
    SECRETS_KEYS: `test:${randomBytes(32).toString('base64')}`,
    PORT: '0',
    // Tests built on the simulated cloud's fault injection; driver tests pass PROVIDER=drivers.
    PROVIDER: 'simulated',
    ...overrides,
  });
}
