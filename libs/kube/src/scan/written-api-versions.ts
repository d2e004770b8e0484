import { type ClusterObject, migrationTarget, REMOVED_APIS, type RemovedApi, removalAffecting } from '@capstan/domain';

/**
 * Which API version an object was written with. The API server stores one version and serves every
 * version it knows, so a read tells nothing about the manifest behind the object; what breaks on
 * an upgrade is the client that keeps writing a removed version. Two traces of it survive in the
 * object (the approach of kubent and pluto): the `kubectl.kubernetes.io/last-applied-configuration`
 * annotation of client-side `kubectl apply`, and `metadata.managedFields[].apiVersion`, which the
 * API server records per field manager for every create, update and server-side apply.
 */
export interface ObjectTraces {
  apiVersion: string;
  kind: string;
  metadata?: {
    name?: string;
    namespace?: string;
    annotations?: Record<string, string> | null;
    managedFields?: { apiVersion?: string; manager?: string; subresource?: string }[] | null;
  };
}

export type WrittenWithSource = 'last-applied' | 'managed-fields';

export interface WrittenWith {
  apiVersion: string;
  source: WrittenWithSource;
  /** The field manager (`kubectl-client-side-apply`, `helm`, ...) for managed-fields traces. */
  manager?: string;
}

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

export function writtenApiVersions(object: ObjectTraces): WrittenWith[] {
  const found: WrittenWith[] = [];
  const lastApplied = object.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (lastApplied) {
    try {
      const applied = JSON.parse(lastApplied) as { apiVersion?: unknown };
      if (typeof applied.apiVersion === 'string') found.push({ apiVersion: applied.apiVersion, source: 'last-applied' });
    } catch {
      // A hand-edited annotation that is not JSON says nothing about the version.
    }
  }
  for (const entry of object.metadata?.managedFields ?? []) {
    // Status writes come from controllers, which use what the server serves; they are not a manifest.
    if (!entry.apiVersion || entry.subresource) continue;
    if (found.some((f) => f.apiVersion === entry.apiVersion && f.source === 'managed-fields')) continue;
    found.push({ apiVersion: entry.apiVersion, source: 'managed-fields', ...(entry.manager ? { manager: entry.manager } : {}) });
  }
  return found;
}

/** One object written through an API that the target version no longer serves. */
export interface RemovedApiFinding {
  apiVersion: string;
  kind: string;
  namespace: string | null;
  name: string;
  removedIn: string;
  replacement: string | null;
  /** Where the API version was read from. */
  source: WrittenWithSource;
  manager?: string;
  note?: string;
}

/**
 * The objects as the upgrade planner takes them (`UpgradePlanInput.objects`): once per API version
 * each was written with, or with the version it was listed through when it carries no trace.
 */
export function asClusterObjects(object: ObjectTraces): ClusterObject[] {
  const meta = { namespace: object.metadata?.namespace ?? null, name: object.metadata?.name ?? '' };
  const versions = [...new Set(writtenApiVersions(object).map((w) => w.apiVersion))];
  return (versions.length > 0 ? versions : [object.apiVersion]).map((apiVersion) => ({ apiVersion, kind: object.kind, ...meta }));
}

/** Findings for a hop from minor `from` to minor `to`: every trace of an API removed after `from` and by `to`. */
export function removedApiFindings(
  objects: readonly ObjectTraces[],
  from: number,
  to: number,
  table: readonly RemovedApi[] = REMOVED_APIS,
): RemovedApiFinding[] {
  const findings: RemovedApiFinding[] = [];
  for (const object of objects) {
    const seen = new Set<string>();
    for (const written of writtenApiVersions(object)) {
      if (seen.has(written.apiVersion)) continue;
      const removal = removalAffecting({ apiVersion: written.apiVersion, kind: object.kind, name: object.metadata?.name ?? '' }, to, from, table);
      if (!removal) continue;
      seen.add(written.apiVersion);
      const successor = migrationTarget(removal, to, table);
      findings.push({
        apiVersion: written.apiVersion,
        kind: object.kind,
        namespace: object.metadata?.namespace ?? null,
        name: object.metadata?.name ?? '',
        removedIn: removal.removedIn,
        replacement: successor.replacement,
        source: written.source,
        ...(written.manager ? { manager: written.manager } : {}),
        ...(successor.note ? { note: successor.note } : {}),
      });
    }
  }
  return findings;
}

/** The (group, kind) pairs worth listing for a hop: those with a removal after `from` (and by `to` when given). */
export function kindsToScan(from: number, to: number | null, table: readonly RemovedApi[] = REMOVED_APIS): { group: string; kind: string }[] {
  const pairs = new Map<string, { group: string; kind: string }>();
  for (const row of table) {
    // request-only kinds have no objects to list (and answer no list)
    if (row.persisted === false || !removedBetween(row, from, to)) continue;
    // Objects written through an old group (extensions/v1beta1 Ingress) are stored and served under the replacement's.
    for (const apiVersion of [row.apiVersion, row.replacement]) {
      if (!apiVersion) continue;
      const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
      pairs.set(`${group}/${row.kind}`, { group, kind: row.kind });
    }
  }
  return [...pairs.values()];
}

/** "v1.31.4+rke2r1", "1.32", "v1.36.2-gke.1100" -> 31, 32, 36. */
export function minorOf(version: string): number {
  const match = /^v?1\.(\d+)(?:\.|$|[+-])/.exec(version);
  if (!match) throw new Error(`not a Kubernetes 1.x version: ${version}`);
  return Number(match[1]);
}

/** Whether `row`'s removal falls after minor `from` and, when `to` is given, by minor `to`. */
export function removedBetween(row: RemovedApi, from: number, to: number | null): boolean {
  const removed = minorOf(row.removedIn);
  return removed > from && (to === null || removed <= to);
}
