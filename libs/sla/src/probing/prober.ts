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

  /**
   * One probe. A connection error on a kept-alive socket that had been idle is tried once more on
   * a fresh socket before it counts (docs/sla.md, "What is probed"): the peer or a middlebox may
   * have dropped the idle connection without the client noticing, and the first probe after a
   * pause would otherwise open a down interval for an API server that is fine. A timeout, a TLS
   * failure or an error status is never retried, and neither is an error on a fresh socket.
   */
  async probe(target: ProbeTarget): Promise<ProbeResult> {
    const started = performance.now();
    const at = this.now();
    const sentAtMs = Date.now();
    let outcome = await this.send(target, this.agentFor(target.caCertificate));
    if (outcome.errorKind === 'connection' && outcome.reusedSocket) {
      this.retriedOnFreshSocket++;
      outcome = await this.send(target, false);
    }
    return {
      clusterId: target.clusterId,
      at,
      sentAtMs,
      success: outcome.success,
      statusCode: outcome.statusCode,
      latencyMs: Math.round(performance.now() - started),
      errorKind: outcome.errorKind,
    };
  }

  /** How many probes were retried on a fresh socket after a connection error on a reused one. */
  retriedOnFreshSocket = 0;

  /** `agent: false` is a fresh connection of its own, trusting the same CA. */
  private send(
    target: ProbeTarget,
    agent: Agent | false,
  ): Promise<{ success: boolean; statusCode: number | null; errorKind: ProbeErrorKind | null; reusedSocket: boolean }> {
    return new Promise((resolve) => {
      const servername = target.serverName ? { servername: target.serverName } : {};
      const options =
        agent === false
          ? { method: 'GET', agent: false as const, ca: target.caCertificate, timeout: this.timeoutMs, ...servername }
          : { method: 'GET', agent, timeout: this.timeoutMs, ...servername };
      const req = request(`${target.endpoint}/readyz`, options, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            success: res.statusCode === 200,
            statusCode: res.statusCode ?? null,
            errorKind: res.statusCode === 200 ? null : 'http_status',
            reusedSocket: req.reusedSocket,
          }),
        );
        res.on('error', () => resolve({ success: false, statusCode: res.statusCode ?? null, errorKind: 'connection', reusedSocket: req.reusedSocket }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error: NodeJS.ErrnoException) => {
        const kind: ProbeErrorKind =
          error.message === 'timeout' ? 'timeout' : /CERT|SSL|TLS|self.signed/i.test(`${error.code} ${error.message}`) ? 'tls' : 'connection';
        resolve({ success: false, statusCode: null, errorKind: kind, reusedSocket: req.reusedSocket });
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
