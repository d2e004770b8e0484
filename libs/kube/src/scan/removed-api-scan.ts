import { type ClusterObject, REMOVED_APIS } from '@capstan/domain';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { TenantClients } from '../client/tenant-clients';
import { statusCode, toKubeError } from '../client/kube-errors';
import { asClusterObjects, kindsToScan, removedBetween, minorOf, type ObjectTraces, type RemovedApiFinding, removedApiFindings } from './written-api-versions';

export interface RemovedApiScan {
  /** The cluster's version as it reports it (`v1.31.4+rke2r1`). */
  clusterVersion: string;
  /** The version scanned for, or null for every removal after the cluster's minor. */
  target: string | null;
  /** Every group/version the cluster serves now (discovery). */
  served: string[];
  /** Served group versions of kinds the target no longer serves at that version. */
  servedButRemoved: string[];
  /** What was listed, as `group/version Kind`, with how many objects. */
  scanned: { apiVersion: string; kind: string; objects: number }[];
  /** Objects written through an API the hop to `target` removes: each blocks the upgrade until migrated. */
  findings: RemovedApiFinding[];
  /** Every scanned object in the planner's form (`UpgradeClusterFacts.objects`). */
  objects: ClusterObject[];
}

const PAGE = 500;

/**
 * The removed-API preflight for a hop to `target` (a minor or a patch; null: any later minor, for
 * the upgrade planner's list of targets): discovery of what the
 * cluster serves, then every object of a kind with a removal between the cluster's minor and the
 * target's, listed through any served version of its group, and judged by the API version it was
 * written with (see written-api-versions.ts).
 */
export async function scanRemovedApis(clients: TenantClients, target: string | null): Promise<RemovedApiScan> {
  const clusterVersion = await serverVersion(clients);
  const from = minorOf(clusterVersion);
  const to = target === null ? null : minorOf(target);
  const served = await servedGroupVersions(clients);

  const scanned: RemovedApiScan['scanned'] = [];
  const listed: ObjectTraces[] = [];
  for (const { group, kind } of kindsToScan(from, to)) {
    const candidates = served.filter((gv) => (group === '' ? !gv.includes('/') : gv.startsWith(`${group}/`)));
    for (const apiVersion of candidates) {
      const objects = await listAll(clients, apiVersion, kind);
      // This version of the group does not serve the kind: try the next.
      if (objects === null) continue;
      scanned.push({ apiVersion, kind, objects: objects.length });
      listed.push(...objects);
      break;
    }
  }

  return {
    clusterVersion,
    target,
    served,
    servedButRemoved: served.filter((gv) => REMOVED_APIS.some((r) => r.apiVersion === gv && removedBetween(r, from, to))),
    scanned,
    findings: removedApiFindings(listed, from, to ?? Number.MAX_SAFE_INTEGER),
    objects: listed.flatMap(asClusterObjects),
  };
}

async function serverVersion(clients: TenantClients): Promise<string> {
  try {
    return (await clients.version.getCode()).gitVersion;
  } catch (error) {
    throw toKubeError(error, 'reading the cluster version');
  }
}

/** `v1`, `apps/v1`, ... in discovery order (preferred version of each group first). */
export async function servedGroupVersions(clients: TenantClients): Promise<string[]> {
  try {
    const core = await clients.coreGroup.getAPIVersions();
    const groups = await clients.groups.getAPIVersions();
    const named = groups.groups.flatMap((g) => {
      const preferred = g.preferredVersion?.groupVersion;
      const versions = g.versions.map((v) => v.groupVersion);
      return preferred ? [preferred, ...versions.filter((v) => v !== preferred)] : versions;
    });
    return [...core.versions, ...named];
  } catch (error) {
    throw toKubeError(error, 'reading which APIs the cluster serves');
  }
}

/** Every object of `kind` through `apiVersion`, page by page; null when that version does not serve the kind. */
async function listAll(clients: TenantClients, apiVersion: string, kind: string): Promise<ObjectTraces[] | null> {
  const objects: ObjectTraces[] = [];
  let continueToken: string | undefined;
  do {
    let page: { items: KubernetesObject[]; metadata?: { _continue?: string; continue?: string } };
    try {
      page = (await clients.objects.list(
        apiVersion,
        kind,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        PAGE,
        continueToken,
      )) as typeof page;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('Unrecognized API version and kind')) return null;
      if (statusCode(error) === 404 && objects.length === 0) return null;
      throw toKubeError(error, `listing ${kind} objects through ${apiVersion}`);
    }
    for (const item of page.items) objects.push({ ...(item as ObjectTraces), apiVersion, kind });
    continueToken = page.metadata?._continue ?? page.metadata?.continue ?? undefined;
  } while (continueToken);
  return objects;
}
