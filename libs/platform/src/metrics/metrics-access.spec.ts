import { MetricsAccess } from './metrics-access';

const TOKEN = 'metrics-token-0123456789abcdef0123456789';

describe('who may scrape /metrics', () => {
  it('lets anyone scrape when neither a token nor networks are configured', () => {
    expect(() => new MetricsAccess({}).assertAllowed('203.0.113.9', undefined)).not.toThrow();
  });

  it('wants the configured bearer token, compared whole', () => {
    const access = new MetricsAccess({ metricsToken: TOKEN });
    expect(() => access.assertAllowed('10.0.0.1', `Bearer ${TOKEN}`)).not.toThrow();
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, TOKEN]) {
      expect(() => access.assertAllowed('10.0.0.1', authorization)).toThrow(expect.objectContaining({ kind: 'unauthenticated' }));
    }
  });

  it('answers only clients in the configured networks, IPv4-mapped addresses judged as IPv4', () => {
    const access = new MetricsAccess({ metricsAllowedNetworks: ['10.0.0.0/8', 'fd00::/8'] });
    for (const address of ['10.1.2.3', '::ffff:10.1.2.3', 'fd12::1']) expect(() => access.assertAllowed(address, undefined)).not.toThrow();
    for (const address of ['192.168.1.1', '::1', 'fe80::1', 'garbage']) {
      expect(() => access.assertAllowed(address, undefined)).toThrow(expect.objectContaining({ kind: 'forbidden' }));
    }
  });

  it('wants both when both are configured', () => {
    const access = new MetricsAccess({ metricsToken: TOKEN, metricsAllowedNetworks: ['127.0.0.0/8'] });
    expect(() => access.assertAllowed('127.0.0.1', `Bearer ${TOKEN}`)).not.toThrow();
    expect(() => access.assertAllowed('127.0.0.1', undefined)).toThrow(expect.objectContaining({ kind: 'unauthenticated' }));
    expect(() => access.assertAllowed('10.0.0.1', `Bearer ${TOKEN}`)).toThrow(expect.objectContaining({ kind: 'forbidden' }));
  });
});
