import { createHash } from 'node:crypto';
import type { ClusterRow } from './cloud/context';
import type { SimulatorDatabase } from './database';

/**
 * The read side of a simulated cluster's Kubernetes API, enough for `kubectl get nodes` and
 * `kubectl get ns`: legacy discovery (`/api`, `/apis`, `/api/v1`), Nodes that are the cluster's
 * node-pool nodes, and the namespaces every cluster starts with. kubectl asks for aggregated
 * discovery and for `Table`s first and accepts plain JSON in their place; we answer a `Table`
 * where kubectl's columns matter (nodes: STATUS, ROLES, AGE, VERSION). See apps/simulator/README.md.
 */
export type KubeAnswer = { body: unknown } | { status: number; reason: string; message: string } | null;

interface NodeRow {
  pool: string;
  name: string;
  version: string;
  unschedulable: boolean;
  phase: string;
}

const BUILT_IN_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

const RESOURCES_V1 = [
  { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get', 'list'], shortNames: ['ns'] },
  { name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: ['get', 'list'], shortNames: ['no'] },
  { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] },
];

export async function serveKubeApi(db: SimulatorDatabase, cluster: ClusterRow, path: string, accept: string): Promise<KubeAnswer> {
  const table = /as=Table/.test(accept);
  switch (path) {
    case '/api':
      return { body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] } };
    case '/apis':
      return { body: { kind: 'APIGroupList', apiVersion: 'v1', groups: [] } };
    case '/api/v1':
      return { body: { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'v1', resources: RESOURCES_V1 } };
    case '/api/v1/nodes':
      return { body: asList('NodeList', await nodes(db, cluster), table ? NODE_TABLE : null) };
    case '/api/v1/namespaces':
      return { body: asList('NamespaceList', await namespaces(db, cluster), table ? NAMESPACE_TABLE : null) };
  }
  // No workloads are emulated yet: every namespace lists no pods (an unknown namespace is NotFound).
  const pods = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?pods(?:\/([^/]+))?$/.exec(path);
  if (pods) {
    const [, namespace, name] = pods;
    if (namespace && !(await namespaces(db, cluster)).some((ns) => ns.metadata.name === namespace)) {
      return { status: 404, reason: 'NotFound', message: `namespaces "${namespace}" not found` };
    }
    if (name) return { status: 404, reason: 'NotFound', message: `pods "${name}" not found` };
    return { body: { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] } };
  }
  const one = /^\/api\/v1\/(nodes|namespaces)\/([^/]+)$/.exec(path);
  if (one) {
    const [, resource, name] = one as unknown as [string, 'nodes' | 'namespaces', string];
    const items = resource === 'nodes' ? await nodes(db, cluster) : await namespaces(db, cluster);
    const found = items.find((item) => item.metadata.name === name);
    if (!found) return { status: 404, reason: 'NotFound', message: `${resource} "${name}" not found` };
    return { body: table ? toTable(resource === 'nodes' ? NODE_TABLE : NAMESPACE_TABLE, [found]) : found };
  }
  return null;
}

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string>; resourceVersion: string; uid: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

async function nodes(db: SimulatorDatabase, cluster: ClusterRow): Promise<KubeObject[]> {
  const rows = await db.query<NodeRow>(
    `SELECT pool, name, version, unschedulable, phase FROM simulator.nodes WHERE cluster = $1 AND phase <> 'provisioning' ORDER BY seq`,
    [cluster.name],
  );
  const created = timestamp(cluster.created_at);
  return rows.map((row) => {
    const ready = row.phase === 'running' || row.phase === 'upgrading';
    const kubeletVersion = cluster.flavour === 'gke' ? `v${row.version}-gke.1000` : `v${row.version}+rke2r1`;
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: row.name,
        uid: uid(cluster.name, 'node', row.name),
        resourceVersion: '1',
        creationTimestamp: created,
        labels: { 'kubernetes.io/hostname': row.name, 'kubernetes.io/os': 'linux', 'capstan.io/node-pool': row.pool },
      },
      spec: row.unschedulable ? { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] } : {},
      status: {
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'KubeletNotReady', lastTransitionTime: created }],
        nodeInfo: {
          kubeletVersion,
          kubeProxyVersion: kubeletVersion,
          operatingSystem: 'linux',
          architecture: 'amd64',
          containerRuntimeVersion: 'containerd://1.7.23',
        },
      },
    };
  });
}

async function namespaces(db: SimulatorDatabase, cluster: ClusterRow): Promise<KubeObject[]> {
  const seeded = await db.query<{ name: string }>(
    `SELECT name FROM simulator.objects WHERE cluster = $1 AND api_version = 'v1' AND kind = 'Namespace' ORDER BY name`,
    [cluster.name],
  );
  const names = [...new Set([...BUILT_IN_NAMESPACES, ...seeded.map((row) => row.name)])].sort();
  const created = timestamp(cluster.created_at);
  return names.map((name) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      uid: uid(cluster.name, 'namespace', name),
      resourceVersion: '1',
      creationTimestamp: created,
      labels: { 'kubernetes.io/metadata.name': name },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  }));
}

interface TableShape {
  columns: { name: string; type: string; format?: string; description: string }[];
  cells(object: KubeObject): unknown[];
}

const NODE_TABLE: TableShape = {
  columns: [
    { name: 'Name', type: 'string', format: 'name', description: 'Name of the node' },
    { name: 'Status', type: 'string', description: 'Ready and scheduling state' },
    { name: 'Roles', type: 'string', description: 'Node roles' },
    { name: 'Age', type: 'string', description: 'Time since creation' },
    { name: 'Version', type: 'string', description: 'Kubelet version' },
  ],
  cells(node) {
    const ready = (node.status!.conditions as { status: string }[])[0]!.status === 'True';
    const state = [ready ? 'Ready' : 'NotReady', ...(node.spec!.unschedulable ? ['SchedulingDisabled'] : [])].join(',');
    return [node.metadata.name, state, '<none>', age(node.metadata.creationTimestamp), (node.status!.nodeInfo as { kubeletVersion: string }).kubeletVersion];
  },
};

const NAMESPACE_TABLE: TableShape = {
  columns: [
    { name: 'Name', type: 'string', format: 'name', description: 'Name of the namespace' },
    { name: 'Status', type: 'string', description: 'Phase' },
    { name: 'Age', type: 'string', description: 'Time since creation' },
  ],
  cells: (ns) => [ns.metadata.name, ns.status!.phase, age(ns.metadata.creationTimestamp)],
};

function asList(kind: string, items: KubeObject[], table: TableShape | null): unknown {
  if (table) return toTable(table, items);
  return { kind, apiVersion: 'v1', metadata: { resourceVersion: '1' }, items };
}

function toTable(shape: TableShape, items: KubeObject[]): unknown {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: '1' },
    columnDefinitions: shape.columns.map((column) => ({ format: '', ...column, priority: 0 })),
    rows: items.map((object) => ({ cells: shape.cells(object), object })),
  };
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** kubectl's short ages: 42s, 5m, 3h, 2d. */
function age(since: string): string {
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** Stable per object, so kubectl sees the same uid on every read. */
function uid(cluster: string, kind: string, name: string): string {
  const hex = createHash('sha256').update(`${cluster}/${kind}/${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
