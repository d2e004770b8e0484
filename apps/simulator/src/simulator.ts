import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import { CallAdmission } from './call-admission';
import { type CertificateAuthority, createCertificateAuthority, issueServingCertificate } from './certificates';
import { Clusters } from './cloud/clusters';
import type { CloudContext } from './cloud/context';
import { Credentials } from './cloud/credentials';
import { NodePools } from './cloud/node-pools';
import { CloudStats } from './cloud/stats';
import { Workloads } from './cloud/workloads';
import { SimulatorDatabase } from './database';
import { FaultInjector } from './faults';
import { gkeWorkloads, startGkeEmulator } from './gke';
import { gkeKubeBridge } from './gke/kube-bridge';
import { ControllerRunner } from './kube/controller-runner';
import { GarbageCollector } from './kube/garbage-collector';
import { NamespaceController } from './kube/namespace-controller';
import { KUBE_CONTROLLERS, KUBE_SUBRESOURCES } from './kube/controllers';
import { clusterApiControllers, EtcdBackupController, MachineFaults, subresourceEvictor } from './kube/controllers/capi';
import { EtcdSnapshots } from './kube/etcd-snapshots';
import { VeleroBackupStore, VeleroController } from './kube/velero/velero';
import { installClusterApiCrds } from './kube/crds';
import { createKubeEmulator, type KubeEmulatorRuntime } from './kube/emulator';
import { kubeconfigYaml } from './kube/kubeconfig';
import type { KubeEmulator } from './kube/types';
import { startKubeEndpoint } from './kube-endpoint';
import { silentLogger, type SimulatorLogger } from './logger';
import { buildRestApi } from './rest-api';

export interface SimulatorOptions {
  /** Any PostgreSQL database; the simulator keeps to its own schema `simulator` in it. */
  databaseUrl: string;
  host: string;
  /**
   * The name other machines reach the simulator by (a Compose service or Kubernetes Service name):
   * used in every URL it hands out (kubeconfigs, GKE endpoints) and covered by the serving
   * certificate. Default: `host`, or 127.0.0.1 when that is a wildcard.
   */
  advertiseHost?: string;
  /** Port of the JSON API; 0 picks a free one. */
  apiPort: number;
  /** Port of the HTTPS listener serving every cluster's API server; 0 picks a free one. */
  kubePort: number;
  /** Port of the emulated GKE Container API v1 (plain HTTP); 0 or unset picks a free one. */
  gkePort?: number;
  /**
   * Clusters are served as `<cluster>.<kubeDomain>` by TLS server name (SNI); kubeconfigs name it
   * as `tls-server-name`, so it needs no DNS. Default `clusters.simulator.capstan.test`.
   */
  kubeDomain?: string;
  /** How long each transition takes (provisioning, upgrading, scaling, deleting). */
  stepDelayMs: number;
  databasePoolSize?: number;
  log?: SimulatorLogger;
  /**
   * The bearer token the JSON API wants from every caller (Capstan's API and workers hold it as
   * SIMULATOR_API_TOKEN), as a real cloud API wants credentials; unset only for in-process tests.
   */
  apiToken?: string;
  /**
   * false: `/readyz` answers 503 until `markReady()`, so whoever waits on it also waits for the
   * caller's own setup (main.ts writes the management kubeconfig first). Default true.
   */
  readyAtStart?: boolean;
  /** How long an emulated API server keeps an Event after its last occurrence (kube-apiserver's `--event-ttl`); default 3600. */
  eventTtlSeconds?: number;
  /**
   * The emulated controllers' clock (default: the system's). Tests move it forward to reach a
   * CronJob's next schedule time without waiting for it; it must never go back.
   */
  kubeClock?: () => Date;
  /** How often the emulated Kubernetes controllers run without an event; default min(1 s, max(50 ms, stepDelayMs)). */
  kubeTickMs?: number;
}

/** The management cluster's API server: its name on the listener and the Kubernetes it reports. */
export const MANAGEMENT_API_SERVER = { name: 'management', role: 'management', distribution: 'kubernetes', version: '1.36.4' } as const;

export interface RunningSimulator {
  apiUrl: string;
  kubeUrl: string;
  /** `http://host:port` of the emulated GKE Container API v1 (its REST root, as `https://container.googleapis.com`). */
  gkeUrl: string;
  /** PEM of the CA behind every simulated API server, the `caCertificate` of kubeconfigs. */
  caCertificate: string;
  /** The Kubernetes API emulator: the management cluster and every workload cluster's API server. */
  kube: KubeEmulator;
  /** cluster-admin kubeconfig (YAML) of the management cluster's API server. */
  managementKubeconfig: string;
  /** Lets `/readyz` answer 200 (see `readyAtStart`). */
  markReady(): void;
  close(): Promise<void>;
}

/**
 * Starts the simulated cloud: its tables, its certificate authority, its JSON API and the one
 * HTTPS listener for all the API servers of its clusters. Launcher and tests run it in-process;
 * main.ts runs it alone.
 */
export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const log = options.log ?? silentLogger;
  const db = new SimulatorDatabase(options.databaseUrl, options.databasePoolSize);
  // The Kubernetes emulator and its controllers work in the background all the time: a pool of
  // their own keeps them from queueing the cloud API's calls, and tells them apart in pg_stat_activity.
  const kubeDb = new SimulatorDatabase(options.databaseUrl, Math.max(2, Math.ceil((options.databasePoolSize ?? 10) / 2)), 'capstan-simulator-kube');
  let setUp = options.readyAtStart ?? true;
  let emulator: KubeEmulatorRuntime | undefined;
  try {
    await db.migrate();
    const authority = await loadCertificateAuthority(db);
    const urlHost = urlHostFor(options.advertiseHost ?? options.host);
    const kubeDomain = options.kubeDomain ?? DEFAULT_KUBE_DOMAIN;
    const servingHosts = [...certificateHosts(options.host), ...(options.advertiseHost ? [options.advertiseHost] : [])];
    const certificate = issueServingCertificate(authority, [...new Set(servingHosts), `*.${kubeDomain}`]);

    // The kube listener starts first: cluster endpoints are built from its (maybe random) port.
    const context: CloudContext = { db, stepDelayMs: options.stepDelayMs, kubeUrl: '', kubeDomain, caCertificatePem: authority.certificatePem };
    const credentials = new Credentials(context);
    emulator = await createKubeEmulator({ db: kubeDb, databaseUrl: options.databaseUrl, kubeDomain, caCertificatePem: authority.certificatePem, log });
    for (const registration of KUBE_SUBRESOURCES) emulator.registerSubresource(registration);
    const kube = await startKubeEndpoint({ db, credentials, certificate, host: options.host, port: options.kubePort, domain: kubeDomain, log, kube: emulator });
    context.kubeUrl = `https://${urlHost}:${kube.port}`;
    emulator.setUrl(context.kubeUrl);
    await emulator.ensureApiServer(MANAGEMENT_API_SERVER);
    await installClusterApiCrds(emulator.server(MANAGEMENT_API_SERVER.name));
    const machineFaults = new MachineFaults(kubeDb);
    await machineFaults.migrate();
    const etcdSnapshots = new EtcdSnapshots(kubeDb, emulator.store);
    const veleroBackups = new VeleroBackupStore(kubeDb);
    await veleroBackups.migrate();
    const admin = await emulator.issueToken(MANAGEMENT_API_SERVER.name, { subject: 'capstan-simulator-admin', ttlSeconds: null });
    const managementKubeconfig = kubeconfigYaml({
      name: MANAGEMENT_API_SERVER.name,
      url: context.kubeUrl,
      kubeDomain,
      caCertificatePem: authority.certificatePem,
      token: admin.token,
    });
    const controllers = new ControllerRunner({
      emulator,
      controllers: [
        new GarbageCollector(emulator),
        new NamespaceController(emulator),
        ...KUBE_CONTROLLERS,
        ...clusterApiControllers({ faults: machineFaults, evict: subresourceEvictor(emulator) }),
        new EtcdBackupController(etcdSnapshots),
        new VeleroController(veleroBackups),
      ],
      stepDelayMs: options.stepDelayMs,
      eventTtlMs: (options.eventTtlSeconds ?? 3600) * 1000,
      ...(options.kubeClock ? { now: options.kubeClock } : {}),
      tickMs: options.kubeTickMs ?? Math.min(1000, Math.max(50, options.stepDelayMs)),
      log,
    });
    controllers.start();

    const faults = new FaultInjector(db);
    const api = await buildRestApi(
      {
        admission: new CallAdmission(db, faults),
        clusters: new Clusters(context),
        nodePools: new NodePools(context),
        credentials,
        workloads: new Workloads(context),
        faults,
        machineFaults,
        etcdSnapshots,
        stats: new CloudStats(db),
        kube: emulator,
        ready: async () => {
          if (!setUp) throw new Error('the simulated cloud is still being set up');
          await db.query('SELECT 1');
        },
        managementKubeconfig,
      },
      log,
      options.apiToken,
    );
    try {
      await api.listen({ host: options.host, port: options.apiPort });
    } catch (error) {
      await controllers.stop();
      await kube.close();
      throw error;
    }
    const apiUrl = `http://${urlHost}:${(api.server.address() as AddressInfo).port}`;
    let gke;
    try {
      gke = await startGkeEmulator({
        db,
        faults,
        kube: gkeKubeBridge(emulator),
        workloads: gkeWorkloads(emulator),
        host: options.host,
        port: options.gkePort ?? 0,
        urlHost,
        stepDelayMs: options.stepDelayMs,
        apiToken: options.apiToken,
        log,
      });
    } catch (error) {
      await controllers.stop();
      await Promise.allSettled([api.close(), kube.close()]);
      throw error;
    }
    log.info({ apiUrl, kubeUrl: context.kubeUrl, gkeUrl: gke.url, stepDelayMs: options.stepDelayMs }, 'simulated cloud started');

    return {
      apiUrl,
      kubeUrl: context.kubeUrl,
      gkeUrl: gke.url,
      caCertificate: authority.certificatePem,
      kube: emulator,
      managementKubeconfig,
      markReady() {
        setUp = true;
      },
      async close() {
        await controllers.stop();
        await Promise.allSettled([api.close(), kube.close(), gke.close()]);
        await emulator?.close();
        await Promise.all([db.close(), kubeDb.close()]);
      },
    };
  } catch (error) {
    await emulator?.close().catch(() => undefined);
    await Promise.all([db.close().catch(() => undefined), kubeDb.close().catch(() => undefined)]);
    throw error;
  }
}

/**
 * The CA is made once and kept in the simulator's tables: restarts reissue only the serving
 * certificate, so kubeconfigs handed out earlier keep verifying.
 */
async function loadCertificateAuthority(db: SimulatorDatabase): Promise<CertificateAuthority> {
  return db.transaction(async (sql) => {
    // Two simulators starting on one database must end up with one CA.
    await sql.query(`SELECT pg_advisory_xact_lock(hashtext('capstan-simulator-ca'))`);
    const { rows } = await sql.query<{ certificate_pem: string; private_key_pem: string }>(
      `SELECT certificate_pem, private_key_pem FROM simulator.certificate_authority WHERE id = 1`,
    );
    if (rows[0]) return { certificatePem: rows[0].certificate_pem, privateKeyPem: rows[0].private_key_pem };
    const created = createCertificateAuthority('capstan-simulator-ca');
    await sql.query(`INSERT INTO simulator.certificate_authority (id, certificate_pem, private_key_pem) VALUES (1, $1, $2)`, [
      created.certificatePem,
      created.privateKeyPem,
    ]);
    return created;
  });
}

export const DEFAULT_KUBE_DOMAIN = 'clusters.simulator.capstan.test';

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function urlHostFor(host: string): string {
  if (isWildcard(host)) return '127.0.0.1';
  return isIP(host) === 6 ? `[${host}]` : host;
}

function certificateHosts(host: string): string[] {
  const hosts = ['127.0.0.1', '::1', 'localhost'];
  return isWildcard(host) ? hosts : [...hosts, host];
}
