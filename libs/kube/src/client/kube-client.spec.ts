import { ApiException } from '@kubernetes/client-node';
import { kubeConfigFor } from './kube-config';
import { toKubeError } from './kube-errors';

const access = {
  server: 'https://127.0.0.1:6443',
  tlsServerName: 'capstan-1.kube.test',
  caCertificate: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
  token: 't0k',
  expiresAt: null,
};

describe('kubeConfigFor', () => {
  it('carries server, CA, token and tls-server-name', async () => {
    const config = kubeConfigFor(access);
    expect(config.getCurrentCluster()).toMatchObject({ server: access.server, tlsServerName: 'capstan-1.kube.test', skipTLSVerify: false });
    expect(Buffer.from(config.getCurrentCluster()!.caData!, 'base64').toString()).toBe(access.caCertificate);
    const options: { headers?: Record<string, string>; servername?: string } = {};
    await config.applyToHTTPSOptions(options);
    expect(options).toMatchObject({ headers: { Authorization: 'Bearer t0k' }, servername: 'capstan-1.kube.test' });
  });
});

describe('toKubeError', () => {
  const answer = (code: number, body: object) => new ApiException(code, 'HTTP', JSON.stringify(body), {});

  it.each([
    [429, true, 'kube_throttled'],
    [500, true, 'kube_unavailable'],
    [503, true, 'kube_unavailable'],
    [401, false, 'kube_forbidden'],
    [403, false, 'kube_forbidden'],
    [422, false, 'kube_invalid'],
  ])('HTTP %i is retryable=%s (%s)', (code, retryable, kind) => {
    const reason = code === 422 ? 'Invalid' : undefined;
    expect(toKubeError(answer(code, { reason, message: 'said so' }), 'doing it')).toMatchObject({
      retryable,
      code: kind,
      message: expect.stringContaining('said so'),
    });
  });

  it('retries a conflict but not a name already taken', () => {
    expect(toKubeError(answer(409, { reason: 'Conflict' }), 'x').retryable).toBe(true);
    expect(toKubeError(answer(409, { reason: 'AlreadyExists' }), 'x').retryable).toBe(false);
  });

  it('retries when no answer came', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { cause: { code: 'ECONNREFUSED' } });
    expect(toKubeError(refused, 'x')).toMatchObject({ retryable: true, code: 'kube_unavailable', message: expect.stringContaining('ECONNREFUSED') });
    expect(toKubeError(Object.assign(new Error('aborted'), { name: 'AbortError' }), 'x')).toMatchObject({ retryable: true });
  });
});
