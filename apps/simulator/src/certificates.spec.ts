import { once } from 'node:events';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueServingCertificate } from './certificates';

describe('simulator certificates', () => {
  it('makes a certificate authority that signs itself', () => {
    const ca = createCertificateAuthority('capstan-simulator-ca');
    const certificate = new X509Certificate(ca.certificatePem);

    expect(certificate.ca).toBe(true);
    expect(certificate.subject).toBe('CN=capstan-simulator-ca');
    expect(certificate.issuer).toBe(certificate.subject);
    expect(certificate.verify(createPublicKey(ca.privateKeyPem))).toBe(true);
    expect(new Date(certificate.validTo).getTime()).toBeGreaterThan(Date.now() + 9 * 365 * 24 * 3_600_000);
  });

  it('issues a serving certificate for IP addresses and DNS names, signed by the authority', () => {
    const ca = createCertificateAuthority('capstan-simulator-ca');
    const serving = new X509Certificate(issueServingCertificate(ca, ['127.0.0.1', '::1', 'localhost']).certificatePem);

    expect(serving.ca).toBe(false);
    expect(serving.issuer).toBe('CN=capstan-simulator-ca');
    expect(serving.checkIssued(new X509Certificate(ca.certificatePem))).toBe(true);
    expect(serving.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
    expect(serving.subjectAltName).toBe('IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost');
    expect(serving.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(serving.checkHost('localhost')).toBe('localhost');
  });

  it('passes a TLS handshake that trusts only the authority', async () => {
    const ca = createCertificateAuthority('capstan-simulator-ca');
    const serving = issueServingCertificate(ca, ['127.0.0.1']);
    const server = createServer({ key: serving.privateKeyPem, cert: serving.certificatePem }, (_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const body = await new Promise<string>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/', ca: ca.certificatePem }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(text));
        })
          .on('error', reject)
          .end();
      });
      expect(body).toBe('ok');

      const other = createCertificateAuthority('someone-else');
      await expect(
        new Promise((resolve, reject) => request({ host: '127.0.0.1', port, path: '/', ca: other.certificatePem }, resolve).on('error', reject).end()),
      ).rejects.toThrow(/certificate/);
    } finally {
      server.close();
    }
  });
});
