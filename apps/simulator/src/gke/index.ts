import type { AddressInfo } from 'node:net';
import type { SimulatorDatabase } from '../database';
import type { FaultInjector } from '../faults';
import type { SimulatorLogger } from '../logger';
import { GkeBackupCloud } from './backup/backup-cloud';
import { GKE_BACKUP_SCHEMA } from './backup/schema';
import type { GkeWorkloads } from './backup/workloads';
import { GkeCloud, type GkeKubeBridge } from './gke-cloud';
import { buildGkeApi } from './http';
import { GKE_SCHEMA } from './schema';
import { GkeTokens } from './tokens';
import { catalogueVersionSet } from './versions';

export { GKE_CALLS, type GkeCall } from './calls';
export type { GkeKubeBridge } from './gke-cloud';
export { gkeWorkloads, type GkeWorkloads } from './backup/workloads';

export interface GkeEmulatorOptions {
  db: SimulatorDatabase;
  faults: FaultInjector;
  /** The Kubernetes API emulator's side of each cluster; null leaves clusters without an API server. */
  kube: GkeKubeBridge | null;
  /** What Backup for GKE's agent does in each cluster (capture, restore); null: backups and restores fail. */
  workloads?: GkeWorkloads | null;
  host: string;
  /** 0 picks a free one. */
  port: number;
  /** Host as URLs should name it (a wildcard listen address is reached at 127.0.0.1). */
  urlHost: string;
  stepDelayMs: number;
  /** The static bearer token it accepts (and the token endpoint's client secret); unset in in-process tests. */
  apiToken?: string;
  log: SimulatorLogger;
}

export interface RunningGkeEmulator {
  url: string;
  cloud: GkeCloud;
  backups: GkeBackupCloud;
  close(): Promise<void>;
}

/** Creates the emulated GKE's tables (idempotent, like the rest of the simulator's schema). */
export async function migrateGke(db: SimulatorDatabase): Promise<void> {
  await db.transaction(async (sql) => {
    await sql.query(`SELECT pg_advisory_xact_lock(hashtext('capstan-simulator-gke-schema'))`);
    await sql.query(GKE_SCHEMA);
    await sql.query(GKE_BACKUP_SCHEMA);
  });
}

/** Starts the emulated GKE Container API v1 on its own plain-HTTP listener. */
export async function startGkeEmulator(options: GkeEmulatorOptions): Promise<RunningGkeEmulator> {
  await migrateGke(options.db);
  let url = '';
  const versions = catalogueVersionSet();
  const cloud = new GkeCloud({ db: options.db, versions, stepDelayMs: options.stepDelayMs, baseUrl: () => url, kube: options.kube, faults: options.faults });
  const backups = new GkeBackupCloud({ db: options.db, stepDelayMs: options.stepDelayMs, workloads: options.workloads ?? null });
  const tokens = new GkeTokens(options.db, options.apiToken);
  const app = await buildGkeApi({ cloud, tokens, faults: options.faults, db: options.db, versions, kube: options.kube, backups }, options.log);
  await app.listen({ host: options.host, port: options.port });
  url = `http://${options.urlHost}:${(app.server.address() as AddressInfo).port}`;
  return { url, cloud, backups, close: () => app.close() };
}
