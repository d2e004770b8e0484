import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent, request } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A write to the Kubernetes API, as the proxy sees it. */
export interface KubeWrite {
  method: string;
  /** The resource (plural), e.g. `machinedeployments`. */
  resource: string;
  /** The object's name: from the path, or for a create from the body. */
  name: string;
}

export type KubeFaultMode = 'refuse-retryable' | 'refuse-final' | 'lose-response';

export interface KubeFaultRule {
  matches(write: KubeWrite): boolean;
  mode: KubeFaultMode;
}

/**
 * Stands between a driver and an emulated API server, and fails the writes it is told to, once
 * each: before they reach the server (503 ServiceUnavailable, or 422 Invalid for a final refusal,
 * as `Status` bodies), or after (the write takes effect and the connection drops before the
 * answer: the case that shows a retry finds what the first attempt made). Reads pass untouched.
 *
 * The driver speaks plain HTTP to it; it speaks HTTPS to the emulator's one listener, naming the
 * API server by TLS server name as a kubeconfig's `tls-server-name` does.
 */
export class KubeFaultProxy {
  private rules: KubeFaultRule[] = [];
  private readonly agent: Agent;

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
    private readonly servername: string,
    ca: string,
  ) {
    this.agent = new Agent({ keepAlive: true, ca });
  }

  static async start(options: { upstream: string; servername: string; caCertificate: string }): Promise<KubeFaultProxy> {
    const server = createServer();
    const proxy = new KubeFaultProxy(server, new URL(options.upstream), options.servername, options.caCertificate);
    server.on('request', (req, res) => void proxy.handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next write `rule` matches fails as it says; then the rule is spent. */
  arm(rule: KubeFaultRule): void {
    this.rules.push(rule);
  }

  clear(): void {
    this.rules = [];
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const write = describeWrite(req.method ?? 'GET', req.url ?? '/', body);
    const index = write ? this.rules.findIndex((rule) => rule.matches(write)) : -1;
    const rule = index >= 0 ? this.rules.splice(index, 1)[0]! : null;

    if (rule?.mode === 'refuse-retryable') return refuse(res, 503, 'ServiceUnavailable', 'the API server is unavailable (injected fault)');
    if (rule?.mode === 'refuse-final') return refuse(res, 422, 'Invalid', `${write!.resource} "${write!.name}" is invalid (injected fault)`);

    const headers = { ...req.headers, host: this.servername };
    const upstream = request(
      { host: this.upstream.hostname, port: this.upstream.port, path: req.url, method: req.method, headers, servername: this.servername, agent: this.agent },
      (answer) => {
        if (rule?.mode === 'lose-response') {
          // The write happened; its answer is lost with the connection.
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    upstream.end(body);
  }
}

function refuse(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}

/** `/apis/<group>/<version>/namespaces/<ns>/<resource>[/<name>]` (or `/api/v1/...`) and the method, for writes only. */
function describeWrite(method: string, url: string, body: Buffer): KubeWrite | null {
  if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) return null;
  const path = new URL(url, 'http://proxy').pathname.split('/').filter(Boolean);
  const at = path.indexOf('namespaces');
  if (at < 0 || path.length < at + 3) return null;
  const resource = path[at + 2]!;
  let name = path[at + 3] ?? '';
  if (!name && method === 'POST') {
    try {
      name = (JSON.parse(body.toString('utf8')) as { metadata?: { name?: string } }).metadata?.name ?? '';
    } catch {
      name = '';
    }
  }
  return { method, resource, name };
}
