import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { ReadyzProber } from './prober';

/**
 * One address serving many clusters picks the cluster by TLS server name (the simulated cloud
 * does): the prober must send the target's server name and verify the certificate against it.
 */
describe('ReadyzProber server name', () => {
  let server: Server;
  let endpoint: string;
  let ca: string;
  const seen: (string | false | null)[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'capstan-prober-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=clusters',
        '-addext',
        'subjectAltName=DNS:*.clusters.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const key = readFileSync(join(dir, 'key.pem'), 'utf8');
    rmSync(dir, { recursive: true, force: true });
    server = createServer({ key, cert: ca }, (req, res) => {
      const name = (req.socket as TLSSocket).servername;
      seen.push(name);
      res.writeHead(name === 'up.clusters.test' ? 200 : 404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('sends each target’s server name, on connections shared per CA', async () => {
    const prober = new ReadyzProber(2_000, () => new Date());
    try {
      const up = await prober.probe({ clusterId: 'a', endpoint, caCertificate: ca, serverName: 'up.clusters.test' });
      const other = await prober.probe({ clusterId: 'b', endpoint, caCertificate: ca, serverName: 'gone.clusters.test' });
      const again = await prober.probe({ clusterId: 'a', endpoint, caCertificate: ca, serverName: 'up.clusters.test' });

      expect([up.success, other.statusCode, again.success]).toEqual([true, 404, true]);
      expect(seen).toEqual(['up.clusters.test', 'gone.clusters.test', 'up.clusters.test']);
    } finally {
      prober.close();
    }
  });

  it('fails as tls when the certificate does not cover the server name', async () => {
    const prober = new ReadyzProber(2_000, () => new Date());
    try {
      expect(await prober.probe({ clusterId: 'c', endpoint, caCertificate: ca, serverName: 'elsewhere.example' })).toMatchObject({
        success: false,
        errorKind: 'tls',
      });
    } finally {
      prober.close();
    }
  });
});
