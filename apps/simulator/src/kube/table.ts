import type { ResourceType } from './resources';
import type { KubeObject } from './types';

/**
 * `as=Table` answers: kubectl's usual columns for the kinds people look at most, NAME/AGE for
 * the rest, plus a CRD's `additionalPrinterColumns` (simple JSONPaths only: `.a.b`, `.a[0].b`,
 * `.a[?(@.type=="Ready")].status`).
 */
interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority?: number;
}

interface Shape {
  columns: Column[];
  cells(object: KubeObject): unknown[];
}

const name: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' };
const ageColumn: Column = { name: 'Age', type: 'string', description: 'Time since the object was created.' };

type Condition = { type?: string; status?: string };
type ContainerStatus = { ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } };

const SHAPES: Record<string, Shape> = {
  Node: {
    columns: [
      name,
      { name: 'Status', type: 'string', description: 'Ready and scheduling state' },
      { name: 'Roles', type: 'string', description: 'Node roles' },
      ageColumn,
      { name: 'Version', type: 'string', description: 'Kubelet version' },
    ],
    cells(node) {
      const conditions = ((node.status?.conditions as Condition[] | undefined) ?? []).filter((c) => c.type === 'Ready');
      const ready = conditions[0]?.status === 'True' ? 'Ready' : conditions.length === 0 ? 'Unknown' : 'NotReady';
      const state = [ready, ...(node.spec?.unschedulable ? ['SchedulingDisabled'] : [])].join(',');
      const roles = Object.keys(node.metadata.labels ?? {})
        .filter((l) => l.startsWith('node-role.kubernetes.io/'))
        .map((l) => l.slice('node-role.kubernetes.io/'.length))
        .sort();
      const version = (node.status?.nodeInfo as { kubeletVersion?: string } | undefined)?.kubeletVersion ?? '';
      return [node.metadata.name, state, roles.length > 0 ? roles.join(',') : '<none>', age(node), version];
    },
  },
  Pod: {
    columns: [
      name,
      { name: 'Ready', type: 'string', description: 'Ready containers' },
      { name: 'Status', type: 'string', description: 'Phase or reason' },
      { name: 'Restarts', type: 'string', description: 'Container restarts' },
      ageColumn,
      { name: 'IP', type: 'string', priority: 1, description: 'Pod IP' },
      { name: 'Node', type: 'string', priority: 1, description: 'Node the pod runs on' },
    ],
    cells(pod) {
      const containers = ((pod.spec?.containers as unknown[] | undefined) ?? []).length;
      const statuses = (pod.status?.containerStatuses as ContainerStatus[] | undefined) ?? [];
      const ready = statuses.filter((s) => s.ready).length;
      const restarts = statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
      const waiting = statuses.map((s) => s.state?.waiting?.reason ?? s.state?.terminated?.reason).find((r) => r);
      const phase = pod.metadata.deletionTimestamp
        ? 'Terminating'
        : (waiting ?? (pod.status?.reason as string | undefined) ?? (pod.status?.phase as string | undefined) ?? 'Pending');
      return [
        pod.metadata.name,
        `${ready}/${containers}`,
        phase,
        restarts,
        age(pod),
        (pod.status?.podIP as string | undefined) ?? '<none>',
        (pod.spec?.nodeName as string | undefined) ?? '<none>',
      ];
    },
  },
  Deployment: {
    columns: [
      name,
      { name: 'Ready', type: 'string', description: 'Ready replicas' },
      { name: 'Up-to-date', type: 'integer', description: 'Updated replicas' },
      { name: 'Available', type: 'integer', description: 'Available replicas' },
      ageColumn,
    ],
    cells(d) {
      const status = (d.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number };
      const wanted = (d.spec?.replicas as number | undefined) ?? 1;
      return [d.metadata.name, `${status.readyReplicas ?? 0}/${wanted}`, status.updatedReplicas ?? 0, status.availableReplicas ?? 0, age(d)];
    },
  },
  Namespace: {
    columns: [name, { name: 'Status', type: 'string', description: 'The phase of the namespace' }, ageColumn],
    cells: (ns) => [ns.metadata.name, (ns.status?.phase as string | undefined) ?? 'Active', age(ns)],
  },
};

export function toTable(
  type: ResourceType,
  objects: KubeObject[],
  resourceVersion: string,
  extra: { continue?: string; remainingItemCount?: number } = {},
): unknown {
  const shape = SHAPES[type.kind] ?? genericShape(type);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...extra },
    columnDefinitions: shape.columns.map((column) => ({ format: '', priority: 0, ...column })),
    rows: objects.map((object) => ({ cells: shape.cells(object), object: partialMetadata(object) })),
  };
}

/** Rows carry PartialObjectMetadata, as kube-apiserver sends by default (`includeObject=Metadata`). */
function partialMetadata(object: KubeObject): unknown {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

function genericShape(type: ResourceType): Shape {
  const printer = type.printerColumns ?? [];
  return {
    columns: [
      name,
      ...printer.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
      ...(printer.some((c) => c.name.toLowerCase() === 'age') ? [] : [ageColumn]),
    ],
    cells: (object) => [
      object.metadata.name,
      ...printer.map((c) => (c.type === 'date' ? relative(jsonPath(object, c.jsonPath)) : (jsonPath(object, c.jsonPath) ?? null))),
      ...(printer.some((c) => c.name.toLowerCase() === 'age') ? [] : [age(object)]),
    ],
  };
}

/** The subset of JSONPath printer columns use: `.a.b`, `.a[0]`, `.a[?(@.k=="v")].b`. */
export function jsonPath(object: unknown, path: string): unknown {
  const tokens =
    path
      .replace(/^\{?\$?/, '')
      .replace(/\}$/, '')
      .match(/\.[^.[]+|\[\?\(@\.[^=]+==["'][^"']*["']\)\]|\[\d+\]/g) ?? [];
  let value: unknown = object;
  for (const token of tokens) {
    if (value === null || value === undefined) return undefined;
    const filter = /^\[\?\(@\.([^=]+)==["']([^"']*)["']\)\]$/.exec(token);
    if (filter) {
      value = Array.isArray(value) ? value.find((item) => (item as Record<string, unknown>)?.[filter[1]!] === filter[2]) : undefined;
    } else if (token.startsWith('[')) {
      value = Array.isArray(value) ? value[Number(token.slice(1, -1))] : undefined;
    } else {
      value = typeof value === 'object' ? (value as Record<string, unknown>)[token.slice(1)] : undefined;
    }
  }
  return value;
}

function age(object: KubeObject): string {
  return relative(object.metadata.creationTimestamp) ?? '<unknown>';
}

/** kubectl's short durations: 42s, 5m, 3h, 2d. */
function relative(since: unknown): string | undefined {
  if (typeof since !== 'string' || Number.isNaN(Date.parse(since))) return undefined;
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
