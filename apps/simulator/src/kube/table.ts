import type { ResourceType } from './resources';
import type { KubeObject } from './types';

/**
 * `as=Table` answers: kube-apiserver's columns (its pkg/printers, `-o wide` ones at priority 1) for
 * the built-in kinds people look at most, NAME/AGE for
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

/** Deployments', ReplicaSets', DaemonSets' and Jobs' `-o wide` columns. */
const templateColumns: Column[] = [
  { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.' },
  { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.' },
  { name: 'Selector', type: 'string', priority: 1, description: 'Label selector for pods.' },
];

const SHAPES: Record<string, Shape> = {
  Node: {
    columns: [
      name,
      { name: 'Status', type: 'string', description: 'Ready and scheduling state' },
      { name: 'Roles', type: 'string', description: 'Node roles' },
      ageColumn,
      { name: 'Version', type: 'string', description: 'Kubelet version' },
      { name: 'Internal-IP', type: 'string', priority: 1, description: 'The node InternalIP' },
      { name: 'External-IP', type: 'string', priority: 1, description: 'The node ExternalIP' },
      { name: 'OS-Image', type: 'string', priority: 1, description: 'The OS image reported by the node' },
      { name: 'Kernel-Version', type: 'string', priority: 1, description: 'The kernel version reported by the node' },
      { name: 'Container-Runtime', type: 'string', priority: 1, description: 'The container runtime reported by the node' },
    ],
    cells(node) {
      const conditions = ((node.status?.conditions as Condition[] | undefined) ?? []).filter((c) => c.type === 'Ready');
      const ready = conditions[0]?.status === 'True' ? 'Ready' : conditions.length === 0 ? 'Unknown' : 'NotReady';
      const state = [ready, ...(node.spec?.unschedulable ? ['SchedulingDisabled'] : [])].join(',');
      const roles = Object.keys(node.metadata.labels ?? {})
        .filter((l) => l.startsWith('node-role.kubernetes.io/'))
        .map((l) => l.slice('node-role.kubernetes.io/'.length))
        .sort();
      const info = (node.status?.nodeInfo ?? {}) as { kubeletVersion?: string; osImage?: string; kernelVersion?: string; containerRuntimeVersion?: string };
      const addresses = (node.status?.addresses as { type?: string; address?: string }[] | undefined) ?? [];
      const address = (kind: string) => addresses.find((a) => a.type === kind)?.address ?? '<none>';
      return [
        node.metadata.name,
        state,
        roles.length > 0 ? roles.join(',') : '<none>',
        age(node),
        info.kubeletVersion ?? '',
        address('InternalIP'),
        address('ExternalIP'),
        info.osImage || '<unknown>',
        info.kernelVersion || '<unknown>',
        info.containerRuntimeVersion || '<unknown>',
      ];
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
      { name: 'Nominated Node', type: 'string', priority: 1, description: 'Node the scheduler nominated for preemption' },
      { name: 'Readiness Gates', type: 'string', priority: 1, description: 'Readiness gates met' },
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
        (pod.status?.nominatedNodeName as string | undefined) ?? '<none>',
        readinessGates(pod),
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
      ...templateColumns,
    ],
    cells(d) {
      const status = (d.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number };
      const wanted = (d.spec?.replicas as number | undefined) ?? 1;
      return [
        d.metadata.name,
        `${status.readyReplicas ?? 0}/${wanted}`,
        status.updatedReplicas ?? 0,
        status.availableReplicas ?? 0,
        age(d),
        ...templateCells(d),
      ];
    },
  },
  ReplicaSet: {
    columns: [
      name,
      { name: 'Desired', type: 'integer', description: 'Replicas wanted' },
      { name: 'Current', type: 'integer', description: 'Replicas running' },
      { name: 'Ready', type: 'integer', description: 'Ready replicas' },
      ageColumn,
      ...templateColumns,
    ],
    cells(rs) {
      const status = (rs.status ?? {}) as { replicas?: number; readyReplicas?: number };
      return [rs.metadata.name, (rs.spec?.replicas as number | undefined) ?? 1, status.replicas ?? 0, status.readyReplicas ?? 0, age(rs), ...templateCells(rs)];
    },
  },
  DaemonSet: {
    columns: [
      name,
      { name: 'Desired', type: 'integer', description: 'Nodes that should run the daemon pod' },
      { name: 'Current', type: 'integer', description: 'Nodes running at least one daemon pod' },
      { name: 'Ready', type: 'integer', description: 'Nodes with a ready daemon pod' },
      { name: 'Up-to-date', type: 'integer', description: 'Nodes running the updated daemon pod' },
      { name: 'Available', type: 'integer', description: 'Nodes with an available daemon pod' },
      { name: 'Node Selector', type: 'string', description: 'The node selector of the pod template' },
      ageColumn,
      ...templateColumns,
    ],
    cells(ds) {
      const status = (ds.status ?? {}) as Record<string, number | undefined>;
      const selector = ((ds.spec?.template as { spec?: { nodeSelector?: Record<string, string> } } | undefined)?.spec?.nodeSelector ?? {}) as Record<
        string,
        string
      >;
      const shown = Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return [
        ds.metadata.name,
        status['desiredNumberScheduled'] ?? 0,
        status['currentNumberScheduled'] ?? 0,
        status['numberReady'] ?? 0,
        status['updatedNumberScheduled'] ?? 0,
        status['numberAvailable'] ?? 0,
        shown || '<none>',
        age(ds),
        ...templateCells(ds),
      ];
    },
  },
  StatefulSet: {
    columns: [name, { name: 'Ready', type: 'string', description: 'Ready replicas' }, ageColumn, ...templateColumns.slice(0, 2)],
    cells(sts) {
      const ready = ((sts.status ?? {}) as { readyReplicas?: number }).readyReplicas ?? 0;
      return [sts.metadata.name, `${ready}/${(sts.spec?.replicas as number | undefined) ?? 1}`, age(sts), ...templateCells(sts).slice(0, 2)];
    },
  },
  Job: {
    columns: [
      name,
      { name: 'Status', type: 'string', description: 'Status of the job' },
      { name: 'Completions', type: 'string', description: 'Succeeded pods of those wanted' },
      { name: 'Duration', type: 'string', description: 'How long the job ran' },
      ageColumn,
      ...templateColumns,
    ],
    cells(job) {
      const status = (job.status ?? {}) as { succeeded?: number; startTime?: string; completionTime?: string; conditions?: Condition[] };
      const done = (type: string) => (status.conditions ?? []).some((c) => c.type === type && c.status === 'True');
      const state = done('Complete') ? 'Complete' : done('Failed') ? 'Failed' : done('Suspended') ? 'Suspended' : 'Running';
      const completions = job.spec?.completions as number | undefined;
      const duration = status.startTime ? span(status.startTime, status.completionTime) : '';
      return [job.metadata.name, state, `${status.succeeded ?? 0}/${completions ?? 1}`, duration, age(job), ...templateCells(job)];
    },
  },
  Service: {
    columns: [
      name,
      { name: 'Type', type: 'string', description: 'The type of the service' },
      { name: 'Cluster-IP', type: 'string', description: 'The cluster IP of the service' },
      { name: 'External-IP', type: 'string', description: 'External IPs of the service' },
      { name: 'Port(s)', type: 'string', description: 'The ports of the service' },
      ageColumn,
      { name: 'Selector', type: 'string', priority: 1, description: 'The selector of the service' },
    ],
    cells(svc) {
      const spec = (svc.spec ?? {}) as {
        type?: string;
        clusterIP?: string;
        externalIPs?: string[];
        externalName?: string;
        ports?: { port?: number; nodePort?: number; protocol?: string }[];
        selector?: Record<string, string>;
      };
      const type = spec.type ?? 'ClusterIP';
      const ingress = ((svc.status?.loadBalancer as { ingress?: { ip?: string; hostname?: string }[] } | undefined)?.ingress ?? []).map(
        (i) => i.ip ?? i.hostname,
      );
      const external =
        type === 'ExternalName'
          ? (spec.externalName ?? '<none>')
          : type === 'LoadBalancer'
            ? [...ingress, ...(spec.externalIPs ?? [])].join(',') || '<pending>'
            : (spec.externalIPs ?? []).join(',') || '<none>';
      const ports = (spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
      const selector = Object.entries(spec.selector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return [svc.metadata.name, type, spec.clusterIP || '<none>', external, ports || '<none>', age(svc), selector || '<none>'];
    },
  },
  Endpoints: {
    columns: [name, { name: 'Endpoints', type: 'string', description: 'Endpoints of the service' }, ageColumn],
    cells(ep) {
      const subsets = (ep['subsets'] as { addresses?: { ip: string }[]; ports?: { port: number }[] }[] | undefined) ?? [];
      const all = subsets.flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports?.length ? s.ports.map((p) => `${a.ip}:${p.port}`) : [a.ip])));
      const shown = all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
      return [ep.metadata.name, shown || '<none>', age(ep)];
    },
  },
  ConfigMap: {
    columns: [name, { name: 'Data', type: 'integer', description: 'Number of data entries' }, ageColumn],
    cells: (cm) => [cm.metadata.name, count(cm['data']) + count(cm['binaryData']), age(cm)],
  },
  Secret: {
    columns: [
      name,
      { name: 'Type', type: 'string', description: 'The type of the secret' },
      { name: 'Data', type: 'integer', description: 'Number of data entries' },
      ageColumn,
    ],
    cells: (secret) => [secret.metadata.name, (secret['type'] as string | undefined) ?? 'Opaque', count(secret['data']), age(secret)],
  },
  ServiceAccount: {
    columns: [name, { name: 'Secrets', type: 'string', description: 'Number of secrets' }, ageColumn],
    cells: (sa) => [sa.metadata.name, ((sa['secrets'] as unknown[] | undefined) ?? []).length, age(sa)],
  },
  PodDisruptionBudget: {
    columns: [
      name,
      { name: 'Min Available', type: 'string', description: 'The minimum number of pods that must be available' },
      { name: 'Max Unavailable', type: 'string', description: 'The maximum number of pods that may be unavailable' },
      { name: 'Allowed Disruptions', type: 'integer', description: 'Pod disruptions currently allowed' },
      ageColumn,
    ],
    cells(pdb) {
      const spec = (pdb.spec ?? {}) as { minAvailable?: number | string; maxUnavailable?: number | string };
      return [
        pdb.metadata.name,
        spec.minAvailable === undefined ? 'N/A' : String(spec.minAvailable),
        spec.maxUnavailable === undefined ? 'N/A' : String(spec.maxUnavailable),
        (pdb.status?.disruptionsAllowed as number | undefined) ?? 0,
        age(pdb),
      ];
    },
  },
  CustomResourceDefinition: {
    columns: [name, { name: 'Created At', type: 'date', description: 'When the definition was created' }],
    cells: (crd) => [crd.metadata.name, crd.metadata.creationTimestamp ?? null],
  },
  Namespace: {
    columns: [name, { name: 'Status', type: 'string', description: 'The phase of the namespace' }, ageColumn],
    cells: (ns) => [ns.metadata.name, (ns.status?.phase as string | undefined) ?? 'Active', age(ns)],
  },
};

function templateCells(object: KubeObject): string[] {
  const containers = ((object.spec?.template as { spec?: { containers?: { name?: string; image?: string }[] } } | undefined)?.spec?.containers ?? []) as {
    name?: string;
    image?: string;
  }[];
  const selector = (object.spec?.selector ?? {}) as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  const parts = [
    ...Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(selector.matchExpressions ?? []).map((e) =>
      e.operator === 'Exists' ? e.key : e.operator === 'DoesNotExist' ? `!${e.key}` : `${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`,
    ),
  ];
  return [containers.map((c) => c.name ?? '').join(','), containers.map((c) => c.image ?? '').join(','), parts.join(',') || '<none>'];
}

function readinessGates(pod: KubeObject): string {
  const gates = (pod.spec?.readinessGates as { conditionType: string }[] | undefined) ?? [];
  if (gates.length === 0) return '<none>';
  const met = gates.filter((g) => ((pod.status?.conditions as Condition[] | undefined) ?? []).some((c) => c.type === g.conditionType && c.status === 'True'));
  return `${met.length}/${gates.length}`;
}

function count(value: unknown): number {
  return value && typeof value === 'object' ? Object.keys(value).length : 0;
}

/** A job's duration as kubectl prints it: 12s, 3m4s. */
function span(from: string, to: string | undefined): string {
  const seconds = Math.max(0, Math.floor(((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60 ? `${seconds % 60}s` : ''}`;
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
}

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
