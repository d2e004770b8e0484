import { ProviderError } from '../cluster-provider';
import { accessFromKubeconfigSecret, readKubeconfigSecret } from './kubeconfig-secret';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function secret(
  user: string,
  cluster = `    server: https://127.0.0.1:6443\n    tls-server-name: capstan-a.clusters.test\n    certificate-authority-data: ${Buffer.from(CA).toString('base64')}`,
) {
  const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: capstan-a
  cluster:
${cluster}
users:
- name: admin
  user:
${user}
contexts:
- name: admin@capstan-a
  context: { cluster: capstan-a, user: admin }
current-context: admin@capstan-a
`;
  return { data: { value: Buffer.from(kubeconfig).toString('base64') } };
}

describe('accessFromKubeconfigSecret', () => {
  it('is null while the Secret is not written', () => {
    expect(accessFromKubeconfigSecret('capstan-a', null)).toBeNull();
    expect(accessFromKubeconfigSecret('capstan-a', { data: {} })).toBeNull();
  });

  it('reads server, TLS server name, CA and token', () => {
    expect(accessFromKubeconfigSecret('capstan-a', secret('    token: abc.def'))).toEqual({
      server: 'https://127.0.0.1:6443',
      tlsServerName: 'capstan-a.clusters.test',
      caCertificate: CA,
      token: 'abc.def',
      expiresAt: null,
    });
  });

  it('refuses, for good and saying why, a kubeconfig it cannot use', () => {
    const certificateOnly = secret('    client-certificate-data: AAAA\n    client-key-data: AAAA');
    expect(() => accessFromKubeconfigSecret('capstan-a', certificateOnly)).toThrow(/without a bearer token/);
    // The cluster itself still reads as reachable: only Capstan's own access needs the token.
    expect(readKubeconfigSecret('capstan-a', certificateOnly)).toMatchObject({ server: 'https://127.0.0.1:6443', caCertificate: CA, token: null });
    const noCa = secret('    token: abc', '    server: https://127.0.0.1:6443');
    expect(() => accessFromKubeconfigSecret('capstan-a', noCa)).toThrow(ProviderError);
    expect(() => accessFromKubeconfigSecret('capstan-a', { data: { value: Buffer.from(': : :').toString('base64') } })).toThrow(/kubeconfig/);
  });
});
