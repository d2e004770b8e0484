import type { GkeCall } from '../calls';
import { parseRequest } from '../requests';
import { GkeApiError } from '../rpc-status';
import type { GkeBackupCloud } from './backup-cloud';
import { backupInput, backupPlanInput, restoreInput, restorePlanInput } from './requests';

export interface BackupRoute {
  call: GkeCall;
  /** The plan a call concerns, as fault-injection and stats key (the Container API's is the cluster). */
  cluster: string;
  run: () => Promise<unknown>;
}

export interface BackupRequest {
  project: string;
  location: string;
  /** The path after `projects/{p}/locations/{l}/`. */
  rest: string;
  method: string;
  body: unknown;
  query: Record<string, unknown>;
}

/** The shape of this service's operation ids (see GkeBackupCloud.startOperation); the Container API's differ. */
const BACKUP_OPERATION = /^operation-\d+-[0-9a-f]{13}-[0-9a-f]{8}-[0-9a-f]{8}$/;

/**
 * The REST surface of Backup for GKE v1 (the `google.api.http` rules of gkebackup.proto: create
 * takes the id as a query parameter, `{resource}Id`), or null for a path that is not this
 * service's. Served on the Container API emulator's port: both share `projects/*\/locations/*`.
 */
export function backupRouteOf(request: BackupRequest, backups: GkeBackupCloud): BackupRoute | null {
  const { project, location, rest, method, body, query } = request;
  const key = { project, location };
  const id = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
  const none = () =>
    new GkeApiError('NOT_FOUND', `Method ${method} /v1/projects/${project}/locations/${location}/${rest} is not part of Backup for GKE v1 (or not emulated).`);

  const operation = /^operations\/([^/:]+)$/.exec(rest);
  if (operation && BACKUP_OPERATION.test(operation[1]!)) {
    if (method !== 'GET') throw none();
    return { call: 'gkebackup.operations.get', cluster: '', run: () => backups.getOperation(key, operation[1]!) };
  }
  if (rest === 'backupPlans') {
    if (method === 'GET') return { call: 'gkebackup.backupPlans.list', cluster: '', run: async () => ({ backupPlans: await backups.listBackupPlans(key) }) };
    if (method === 'POST') {
      const input = parseRequest(backupPlanInput, body);
      return { call: 'gkebackup.backupPlans.create', cluster: id('backupPlanId') ?? '', run: () => backups.createBackupPlan(key, id('backupPlanId'), input) };
    }
    throw none();
  }
  const plan = /^backupPlans\/([^/:]+)$/.exec(rest);
  if (plan) {
    const name = plan[1]!;
    if (method === 'GET') return { call: 'gkebackup.backupPlans.get', cluster: name, run: () => backups.getBackupPlan(key, name) };
    if (method === 'DELETE') return { call: 'gkebackup.backupPlans.delete', cluster: name, run: () => backups.deleteBackupPlan(key, name) };
    throw none();
  }
  const backupList = /^backupPlans\/([^/:]+)\/backups$/.exec(rest);
  if (backupList) {
    const planId = backupList[1]!;
    if (method === 'GET') return { call: 'gkebackup.backups.list', cluster: planId, run: async () => ({ backups: await backups.listBackups(key, planId) }) };
    if (method === 'POST') {
      const input = parseRequest(backupInput, body);
      return { call: 'gkebackup.backups.create', cluster: planId, run: () => backups.createBackup(key, planId, id('backupId'), input) };
    }
    throw none();
  }
  const backup = /^backupPlans\/([^/:]+)\/backups\/([^/:]+)$/.exec(rest);
  if (backup) {
    const [planId, name] = [backup[1]!, backup[2]!];
    if (method === 'GET') return { call: 'gkebackup.backups.get', cluster: planId, run: () => backups.getBackup(key, planId, name) };
    if (method === 'DELETE') return { call: 'gkebackup.backups.delete', cluster: planId, run: () => backups.deleteBackup(key, planId, name, id('etag')) };
    throw none();
  }
  if (rest === 'restorePlans') {
    if (method === 'GET') return { call: 'gkebackup.restorePlans.list', cluster: '', run: async () => ({ restorePlans: await backups.listRestorePlans(key) }) };
    if (method === 'POST') {
      const input = parseRequest(restorePlanInput, body);
      return {
        call: 'gkebackup.restorePlans.create',
        cluster: id('restorePlanId') ?? '',
        run: () => backups.createRestorePlan(key, id('restorePlanId'), input),
      };
    }
    throw none();
  }
  const restorePlan = /^restorePlans\/([^/:]+)$/.exec(rest);
  if (restorePlan) {
    const name = restorePlan[1]!;
    if (method === 'GET') return { call: 'gkebackup.restorePlans.get', cluster: name, run: () => backups.getRestorePlan(key, name) };
    if (method === 'DELETE') return { call: 'gkebackup.restorePlans.delete', cluster: name, run: () => backups.deleteRestorePlan(key, name) };
    throw none();
  }
  const restoreList = /^restorePlans\/([^/:]+)\/restores$/.exec(rest);
  if (restoreList) {
    const planId = restoreList[1]!;
    if (method === 'GET') return { call: 'gkebackup.restores.list', cluster: planId, run: async () => ({ restores: await backups.listRestores(key, planId) }) };
    if (method === 'POST') {
      const input = parseRequest(restoreInput, body);
      return { call: 'gkebackup.restores.create', cluster: planId, run: () => backups.createRestore(key, planId, id('restoreId'), input) };
    }
    throw none();
  }
  const restore = /^restorePlans\/([^/:]+)\/restores\/([^/:]+)$/.exec(rest);
  if (restore) {
    const [planId, name] = [restore[1]!, restore[2]!];
    if (method === 'GET') return { call: 'gkebackup.restores.get', cluster: planId, run: () => backups.getRestore(key, planId, name) };
    throw none();
  }
  return null;
}
