import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Credentials } from './cloud/credentials';
import { apiServerServes, type ClusterRow, findCluster } from './cloud/context';
import type { SimulatorDatabase } from './database';
import { serveKubeApi } from './kube-api';
import type { ServingCertificate } from './certificates';
import type { SimulatorLogger } from './logger';
import type { KubeEmulatorRuntime } from './kube/emulator';
import { serveApiServer } from './kube/http';

/**
 * Every simulated cluster's API server, on one HTTPS listener. The cluster is chosen by the TLS
 * server name (SNI) `<cluster>.<domain>`, which kubeconfigs carry as `tls-server-name`, so every
 * kubectl path (raw ones included) reaches the right cluster; without a server name of ours the
 * older `/clusters/<name>/...` path prefix still routes (see apps/simulator/README.md). One socket
 * for all of them is what lets ten thousand clusters fit on a laptop, where a listener each would
 * run out of ports and file descriptors.
 *
 * A server name that is an API server of the Kubernetes API emulator (kube/, `management` and the
 * workload clusters of the Cluster API and GKE emulation) is served by it (kube/http.ts); any
 * other name is one of the older simulated clusters, served as below.
 *
 * Like kube-apiserver: `/readyz`, `/livez` and `/healthz` answer anyone (the SLA monitor probes
 * them); `/version` needs a bearer token issued for that cluster; errors are `Status` objects.
 */
export interface KubeEndpoint {
  port: number;
  close(): Promise<void>;
}

const HEALTH_PATHS = new Set(['/readyz', '/livez', '/healthz']);

export async function startKubeEndpoint(options: {
  db: SimulatorDatabase;
  credentials: Credentials;
  certificate: ServingCertificate;
  host: string;
  port: number;
  /** Clusters are `<cluster>.<domain>` by SNI; the serving certificate covers `*.<domain>`. */
  domain: string;
  log: SimulatorLogger;
  /** The Kubernetes API emulator: a server name it knows goes to it, any other to the simulated clusters. */
  kube?: KubeEmulatorRuntime;
}): Promise<KubeEndpoint> {
  const { db, credentials, log } = options;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://simulator');
    const target = routeOf(url.pathname, (req.socket as TLSSocket).servername, options.domain);
    const emulated = target && options.kube ? await options.kube.getApiServer(target.name) : null;
    if (emulated) return serveApiServer(options.kube!, emulated, req, res, url, target!.path);
    if (!target || req.method !== 'GET') return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const { name, path } = target;

    const cluster = await findCluster(db.pool, name);
    if (!cluster) return status(res, 404, 'NotFound', `cluster ${name} does not exist`);

    if (HEALTH_PATHS.has(path)) {
      const ok = apiServerServes(cluster);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      res.end(ok ? 'ok' : `[-]etcd failed: reason withheld\n${path.slice(1)} check failed`);
      return;
    }
    if (!apiServerServes(cluster)) return status(res, 503, 'ServiceUnavailable', 'the server is currently unable to handle the request');

    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !(await credentials.authenticate(cluster.name, token))) return status(res, 401, 'Unauthorized', 'Unauthorized');

    if (path === '/version') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(versionInfo(cluster)));
      return;
    }
    const answer = await serveKubeApi(db, cluster, path, req.headers.accept ?? '');
    if (!answer) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    if ('status' in answer) return status(res, answer.status, answer.reason, answer.message);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  };

  const server: Server = createServer(
    { key: options.certificate.privateKeyPem, cert: options.certificate.certificatePem, keepAliveTimeout: 30_000 },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        log.error({ err: error, url: req.url }, 'simulated API server failed');
        if (!res.headersSent) status(res, 500, 'InternalError', 'an error on the server prevented the request from succeeding');
        else res.destroy();
      });
    },
  );
  // Thousands of probes share few connections; let them queue rather than be refused.
  server.maxConnections = 100_000;
  // A fleet's probes and watches connect in bursts; the default backlog (511) drops some of them.
  server.listen({ port: options.port, host: options.host, backlog: 4096 });
  await once(server, 'listening');

  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Which cluster a request is for, and the path inside its API server. */
export function routeOf(pathname: string, servername: string | false | null | undefined, domain: string): { name: string; path: string } | null {
  const suffix = `.${domain}`;
  if (servername && servername.toLowerCase().endsWith(suffix)) {
    const name = servername.slice(0, -suffix.length).toLowerCase();
    return CLUSTER_NAME.test(name) ? { name, path: pathname } : null;
  }
  const match = /^\/clusters\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\/.*)?$/.exec(pathname);
  return match ? { name: match[1]!, path: match[3] ?? '/' } : null;
}

/** Kubernetes' `/version` document, with the distribution's build suffix. */
function versionInfo(cluster: ClusterRow) {
  const [major, minor] = cluster.version.split('.');
  const gitVersion = cluster.flavour === 'gke' ? `v${cluster.version}-gke.1000` : `v${cluster.version}+rke2r1`;
  return {
    major,
    minor,
    gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: cluster.created_at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    goVersion: 'go1.24.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}
