import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadyzProber } from './prober';

/** A self-signed certificate for 127.0.0.1, its own CA (openssl: Node can verify certificates but not build them). */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'prober-'));
  try {
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
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ReadyzProber', () => {
  const tls = selfSigned();
  let server: Server;
  let endpoint: string;
  /** What the API server does with the n-th request (1-based) on one connection. */
  let onRequest: (nthOnSocket: number) => 'ok' | 'drop' | 'unavailable';
  const requestsBySocket = new WeakMap<Socket, number>();
  let connections = 0;

  beforeAll(async () => {
    server = createServer({ key: tls.key, cert: tls.cert, keepAliveTimeout: 60_000 }, (req, res) => {
      const n = (requestsBySocket.get(req.socket) ?? 0) + 1;
      requestsBySocket.set(req.socket, n);
      if (onRequest(n) === 'drop') {
        // As a peer or middlebox that forgot an idle connection: no answer, the connection just dies.
        req.socket.destroy();
        return;
      }
      res.statusCode = onRequest(n) === 'unavailable' ? 503 : 200;
      res.end();
    });
    server.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const target = () => ({ clusterId: 'cl_x', endpoint, caCertificate: tls.cert });

  it('retries once on a fresh socket when a reused keep-alive socket turns out dead, and counts the probe up', async () => {
    // Given an API server that drops a kept-alive connection when it is used again
    onRequest = (n) => (n === 1 ? 'ok' : 'drop');
    const prober = new ReadyzProber(2_000, () => new Date());
    const before = connections;
    try {
      expect(await prober.probe(target())).toMatchObject({ success: true, statusCode: 200 });
      // When the next probe goes out on the idle socket
      const second = await prober.probe(target());
      // Then it is tried again on a new connection and succeeds (before: a connection error, a down interval)
      expect(second).toMatchObject({ success: true, statusCode: 200, errorKind: null });
      expect(prober.retriedOnFreshSocket).toBe(1);
      expect(connections - before).toBe(2);
    } finally {
      prober.close();
    }
  });

  it('does not retry a connection error on a fresh socket: an API server that drops every request is down', async () => {
    onRequest = () => 'drop';
    const prober = new ReadyzProber(2_000, () => new Date());
    try {
      expect(await prober.probe(target())).toMatchObject({ success: false, statusCode: null, errorKind: 'connection' });
      expect(prober.retriedOnFreshSocket).toBe(0);
    } finally {
      prober.close();
    }
  });

  it('counts a failure when the fresh socket fails too', async () => {
    // The first request on the kept-alive socket works, then the server drops everything
    let healthy = true;
    onRequest = () => (healthy ? 'ok' : 'drop');
    const prober = new ReadyzProber(2_000, () => new Date());
    try {
      expect((await prober.probe(target())).success).toBe(true);
      healthy = false;
      expect(await prober.probe(target())).toMatchObject({ success: false, errorKind: 'connection' });
      expect(prober.retriedOnFreshSocket).toBe(1);
    } finally {
      prober.close();
    }
  });

  it('does not retry an error status on a reused socket: the API server answered', async () => {
    onRequest = (n) => (n === 1 ? 'ok' : 'unavailable');
    const prober = new ReadyzProber(2_000, () => new Date());
    try {
      expect((await prober.probe(target())).success).toBe(true);
      expect(await prober.probe(target())).toMatchObject({ success: false, statusCode: 503, errorKind: 'http_status' });
      expect(prober.retriedOnFreshSocket).toBe(0);
    } finally {
      prober.close();
    }
  });
});
