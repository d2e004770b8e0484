import { AcceleratedClock, SystemClock } from './clock';
import { ConfigError, loadConfig } from './config/config';

const valid = {
  DATABASE_URL: 'postgresql://capstan@127.0.0.1:5432/capstan',
  REDIS_URL: 'redis://127.0.0.1:6379',
  SECRETS_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
};

describe('the clock every process shares (CLOCK_SPEED, CLOCK_ORIGIN)', () => {
  it('is real time by default', () => {
    for (const clock of [new SystemClock(loadConfig(valid)), new SystemClock()]) {
      const before = Date.now();
      const now = clock.now().getTime();
      expect(now).toBeGreaterThanOrEqual(before);
      expect(now).toBeLessThanOrEqual(Date.now());
    }
  });

  it('runs CLOCK_SPEED times real time from CLOCK_ORIGIN, the same for processes started at different times', () => {
    // Given a deployment whose processes share speed 60 from an origin 10 real seconds ago
    const origin = new Date(Date.now() - 10_000);
    const config = loadConfig({ ...valid, CLOCK_SPEED: '60', CLOCK_ORIGIN: origin.toISOString() });
    const api = new SystemClock(config);
    // When a second process starts later, with the same settings
    const monitor = new SystemClock(loadConfig({ ...valid, CLOCK_SPEED: '60', CLOCK_ORIGIN: origin.toISOString() }));
    // Then each reads origin + (real time − origin) × 60, whenever it was created: they agree
    const simulated = (realMs: number) => origin.getTime() + (realMs - origin.getTime()) * 60;
    for (const clock of [api, monitor, AcceleratedClock.shared(60, origin)]) {
      const before = Date.now();
      const now = clock.now().getTime();
      const after = Date.now();
      expect(now).toBeGreaterThanOrEqual(simulated(before));
      expect(now).toBeLessThanOrEqual(simulated(after));
    }
    // about 10 minutes past the origin (10 s × 60)
    expect(api.now().getTime() - origin.getTime()).toBeGreaterThanOrEqual(600_000);
  });

  it('refuses a faster clock without an origin, and a speed below 1, naming the setting', () => {
    const refusal = (env: Record<string, string>) => {
      try {
        loadConfig({ ...valid, ...env });
      } catch (error) {
        return error instanceof ConfigError ? error.setting : error;
      }
      return undefined;
    };
    expect(refusal({ CLOCK_SPEED: '60' })).toBe('CLOCK_ORIGIN');
    expect(refusal({ CLOCK_SPEED: '0.5', CLOCK_ORIGIN: '2026-12-04T18:00:00Z' })).toBe('CLOCK_SPEED');
    expect(refusal({ CLOCK_SPEED: '60', CLOCK_ORIGIN: 'yesterday' })).toBe('CLOCK_ORIGIN');
  });
});
