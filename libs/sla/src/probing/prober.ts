import { createHash } from 'node:crypto';
import { Agent, request } from 'node:https';

export interface ProbeTarget {
  clusterId: string;
  /** The API server URL, e.g. https://127.0.0.1:8443/clusters/capstan-01j... */
  endpoint: string;
  caCertificate: string;
  /** TLS server name when the endpoint serves several clusters on one address and picks one by SNI. */
  serverName?: string;
}

export type ProbeErrorKind = 'timeout' | 'connection' | 'tls' | 'http_status';

export interface ProbeResult {
  clusterId: string;
  /** When the probe was sent, by the injected clock (what reports are computed in). */
  at: Date;
  /** The same moment in process time, for gap detection, which is about the monitor, not the clock. */
  sentAtMs: number;
  success: boolean;
  statusCode: number | null;
  latencyMs: number;
  errorKind: ProbeErrorKind | null;
}

/**
 * `GET /readyz` over HTTPS, trusting only the cluster's CA, with keep-alive: one agent per CA,
 * so the thousands of clusters behind one provider CA share warm connections instead of paying
 * a TLS handshake per probe.
 */
export class ReadyzProber {
  private readonly agents = new Map<string, Agent>();

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => Date,
    /** Sockets per CA: a fleet behind one provider CA shares them, so this caps probes in flight. */
    private readonly maxSockets = 256,
  ) {}

  probe(target: ProbeTarget): Promise<ProbeResult> {
    const started = performance.now();
    const at = this.now();
    const sentAtMs = Date.now();
    const done = (success: boolean, statusCode: number | null, errorKind: ProbeErrorKind | null): ProbeResult => ({
      clusterId: target.clusterId,
      at,
      sentAtMs,
      success,
      statusCode,
      latencyMs: Math.round(performance.now() - started),
      errorKind,
    });
    return new Promise((resolve) => {
      const req = request(`${target.endpoint}/readyz`, { method: 'GET', agent: this.agentFor(target.caCertificate), timeout: this.timeoutMs, ...(target.serverName ? { servername: target.serverName } : {}) }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? done(true, 200, null) : done(false, res.statusCode ?? null, 'http_status')));
        res.on('error', () => resolve(done(false, res.statusCode ?? null, 'connection')));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error: NodeJS.ErrnoException) => {
        const kind: ProbeErrorKind = error.message === 'timeout' ? 'timeout' : /CERT|SSL|TLS|self.signed/i.test(`${error.code} ${error.message}`) ? 'tls' : 'connection';
        resolve(done(false, null, kind));
      });
      req.end();
    });
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private agentFor(ca: string): Agent {
    const key = createHash('sha256').update(ca).digest('hex');
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new Agent({ ca, keepAlive: true, maxSockets: this.maxSockets, maxFreeSockets: this.maxSockets, timeout: 30_000 });
      this.agents.set(key, agent);
    }
    return agent;
  }
}
