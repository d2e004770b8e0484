import { nextAttemptAfter, retryDelayMs } from '../delivery/retry-schedule';
import { signWebhook } from './webhook-secrets';
import { webhookUrlProblem } from './webhook-url';
import { isPublicAddress } from './network-policy';

describe('webhook signatures', () => {
  it('match the Standard Webhooks reference vector', () => {
    // From the Standard Webhooks specification's test vectors (also Svix's documentation).
    const signature = signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('change with the id, the timestamp and the body', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const base = signWebhook(secret, 'evt_1', 1, '{}');
    expect(signWebhook(secret, 'evt_2', 1, '{}')).not.toBe(base);
    expect(signWebhook(secret, 'evt_1', 2, '{}')).not.toBe(base);
    expect(signWebhook(secret, 'evt_1', 1, '{ }')).not.toBe(base);
  });

  it('refuse a key that is not a webhook secret', () => {
    expect(() => signWebhook('cap_live_something', 'evt_1', 1, '{}')).toThrow('not a webhook signing secret');
  });
});

describe('webhook URLs', () => {
  it.each([
    ['https://hooks.example.com/capstan', false, null],
    ['https://hooks.example.com:8443/a?b=c', false, null],
    ['http://hooks.example.com/a', false, 'must be an https:// URL'],
    ['http://127.0.0.1:9000/a', true, null],
    ['ftp://hooks.example.com/a', true, 'must be an http:// or https:// URL'],
    ['https://user:pass@hooks.example.com/a', false, 'must not carry credentials (user:password@); deliveries are authenticated by their signature'],
    ['https://user@hooks.example.com/a', true, 'must not carry credentials (user:password@); deliveries are authenticated by their signature'],
    ['hooks.example.com', false, 'is not a URL'],
    ['https://hooks.example.com/a\r\nX-Injected: 1', false, 'must not contain spaces, line breaks or other control characters'],
    ['https://hooks.exa\tmple.com/a', false, 'must not contain spaces, line breaks or other control characters'],
    ['https://hooks.example.com/a b', false, 'must not contain spaces, line breaks or other control characters'],
  ])('%s (plain http allowed: %s) -> %s', (url, allowPlainHttp, problem) => {
    expect(webhookUrlProblem(url, { allowPlainHttp, allowPrivateNetworks: true })).toBe(problem);
  });

  const privateHost = 'must not point at a private, loopback, link-local or reserved address';
  it.each([
    ['https://127.0.0.1/a', privateHost],
    ['https://10.1.2.3/a', privateHost],
    ['https://172.20.0.1/a', privateHost],
    ['https://192.168.1.1/a', privateHost],
    ['https://169.254.169.254/latest/meta-data', privateHost],
    ['https://100.64.0.1/a', privateHost],
    ['https://0.0.0.0/a', privateHost],
    ['https://[::1]/a', privateHost],
    ['https://[fd00::1]/a', privateHost],
    ['https://[fe80::1]/a', privateHost],
    ['https://[::ffff:127.0.0.1]/a', privateHost],
    ['https://2130706433/a', privateHost], // 127.0.0.1 written as one number
    ['https://localhost/a', 'must not point at this machine (localhost)'],
    ['https://api.LOCALHOST./a', 'must not point at this machine (localhost)'],
    ['https://8.8.8.8/a', null],
    ['https://[2001:4860:4860::8888]/a', null],
    ['https://[::ffff:8.8.8.8]/a', null],
    ['https://hooks.example.com/a', null],
    // Forms a deny-list missed: only global unicast passes.
    ['https://[::127.0.0.1]/a', privateHost], // IPv4-compatible loopback
    ['https://[::a9fe:a9fe]/latest/meta-data', privateHost], // IPv4-compatible 169.254.169.254
    ['https://[2001::a9fe:a9fe]/a', privateHost], // Teredo
    ['https://[fec0::1]/a', privateHost], // site-local
    ['https://[2002:a9fe:a9fe::1]/a', privateHost], // 6to4 of 169.254.169.254
    ['https://[64:ff9b::a9fe:a9fe]/a', privateHost], // NAT64 of 169.254.169.254
    ['https://[3fff::1]/a', privateHost], // documentation (RFC 9637)
  ])('refuses hosts off the public internet: %s -> %s', (url, problem) => {
    expect(webhookUrlProblem(url, { allowPlainHttp: false, allowPrivateNetworks: false })).toBe(problem);
    expect(webhookUrlProblem(url, { allowPlainHttp: false, allowPrivateNetworks: true })).toBeNull();
  });

  it.each([
    ['1.1.1.1', true],
    ['192.0.2.10', false],
    ['198.18.0.1', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['2606:4700::1111', true],
    ['::', false],
    ['64:ff9b::a00:1', false],
    ['::a9fe:a9fe', false],
    ['::8.8.8.8', false],
    ['2001::1', false],
    ['fec0::1', false],
    ['::ffff:169.254.169.254', false],
    ['::ffff:1.1.1.1', true],
    ['fe80::1%eth0', false],
    ['not an address', false],
  ])('isPublicAddress(%s) -> %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('retry schedule', () => {
  it('doubles from 30 s and stays at one hour', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 50].map((attempts) => retryDelayMs(attempts) / 1000)).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
  });

  it('stops once the next attempt would be more than 24 h after the event', () => {
    const event = new Date('2026-11-25T12:00:00Z');
    expect(nextAttemptAfter(new Date('2026-11-26T10:00:00Z'), 20, event)).toEqual(new Date('2026-11-26T11:00:00Z'));
    expect(nextAttemptAfter(new Date('2026-11-26T11:00:00Z'), 20, event)).toEqual(new Date('2026-11-26T12:00:00Z'));
    expect(nextAttemptAfter(new Date('2026-11-26T11:00:01Z'), 20, event)).toBeNull();
  });
});
