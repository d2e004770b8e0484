import { REMOVED_APIS } from '@capstan/domain';
import type { ApiServerInfo } from './types';

/**
 * What an emulated API server serves: its resources, by group/version, as discovery and the REST
 * paths name them. Built-in kinds are listed here; CustomResourceDefinitions add their own per
 * server (see `crdResources`). Which versions a server serves depends on its Kubernetes minor:
 * removals come from libs/domain's REMOVED_APIS (the same table Capstan's removed-API scan uses,
 * so the scan can be tested against the emulator), introductions from `introducedIn` below.
 */
export interface ResourceType {
  group: string;
  /** Served versions, newest (the preferred one) first. */
  versions: string[];
  /** Plural, lower case: the REST path segment. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  /** `status`, `scale`, `eviction`, `token`, ... */
  subresources: string[];
  categories: string[];
  /** From a CRD's `additionalPrinterColumns` of the served version. */
  printerColumns?: PrinterColumn[];
  /** The CRD's `openAPIV3Schema` per version (validated from priority 2 on). */
  schemas?: Record<string, unknown>;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface BuiltIn {
  group: string;
  /** Every version the emulator knows, newest first, with the minor it first appeared in where that is recent. */
  versions: { version: string; introducedIn?: number }[];
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  subresources?: string[];
  categories?: string[];
  verbs?: string[];
  /** Only on servers of this distribution (RKE2 bundles helm-controller). */
  distribution?: ApiServerInfo['distribution'];
}

const v1 = [{ version: 'v1' }];
const ALL = ['all'];

const BUILT_INS: BuiltIn[] = [
  { group: '', versions: v1, resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'] },
  { group: '', versions: v1, resource: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status'] },
  {
    group: '',
    versions: v1,
    resource: 'pods',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    subresources: ['status', 'eviction', 'log', 'binding'],
    categories: ALL,
  },
  { group: '', versions: v1, resource: 'services', kind: 'Service', namespaced: true, shortNames: ['svc'], subresources: ['status'], categories: ALL },
  { group: '', versions: v1, resource: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'] },
  { group: '', versions: v1, resource: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] },
  { group: '', versions: v1, resource: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', versions: v1, resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'], subresources: ['token'] },
  { group: '', versions: v1, resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  {
    group: '',
    versions: v1,
    resource: 'persistentvolumeclaims',
    kind: 'PersistentVolumeClaim',
    namespaced: true,
    shortNames: ['pvc'],
    subresources: ['status'],
  },
  { group: '', versions: v1, resource: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false, shortNames: ['pv'], subresources: ['status'] },
  { group: '', versions: v1, resource: 'resourcequotas', kind: 'ResourceQuota', namespaced: true, shortNames: ['quota'], subresources: ['status'] },
  { group: '', versions: v1, resource: 'limitranges', kind: 'LimitRange', namespaced: true, shortNames: ['limits'] },
  {
    group: 'apps',
    versions: v1,
    resource: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    subresources: ['status', 'scale'],
    categories: ALL,
  },
  {
    group: 'apps',
    versions: v1,
    resource: 'replicasets',
    kind: 'ReplicaSet',
    namespaced: true,
    shortNames: ['rs'],
    subresources: ['status', 'scale'],
    categories: ALL,
  },
  { group: 'apps', versions: v1, resource: 'daemonsets', kind: 'DaemonSet', namespaced: true, shortNames: ['ds'], subresources: ['status'], categories: ALL },
  {
    group: 'apps',
    versions: v1,
    resource: 'statefulsets',
    kind: 'StatefulSet',
    namespaced: true,
    shortNames: ['sts'],
    subresources: ['status', 'scale'],
    categories: ALL,
  },
  {
    group: 'policy',
    versions: v1,
    resource: 'poddisruptionbudgets',
    kind: 'PodDisruptionBudget',
    namespaced: true,
    shortNames: ['pdb'],
    subresources: ['status'],
  },
  {
    // Before batch, in upstream's discovery order (`kubectl get all` lists in it); v2 and v1 share one stored form (no conversion).
    group: 'autoscaling',
    versions: [{ version: 'v2' }, { version: 'v1' }],
    resource: 'horizontalpodautoscalers',
    kind: 'HorizontalPodAutoscaler',
    namespaced: true,
    shortNames: ['hpa'],
    subresources: ['status'],
    categories: ALL,
  },
  // kube-apiserver lists a group's resources alphabetically (`kubectl get all` shows cronjobs before jobs).
  { group: 'batch', versions: v1, resource: 'cronjobs', kind: 'CronJob', namespaced: true, shortNames: ['cj'], subresources: ['status'], categories: ALL },
  { group: 'batch', versions: v1, resource: 'jobs', kind: 'Job', namespaced: true, subresources: ['status'], categories: ALL },
  { group: 'networking.k8s.io', versions: v1, resource: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true, shortNames: ['netpol'] },
  { group: 'networking.k8s.io', versions: v1, resource: 'ingresses', kind: 'Ingress', namespaced: true, shortNames: ['ing'], subresources: ['status'] },
  { group: 'networking.k8s.io', versions: v1, resource: 'ingressclasses', kind: 'IngressClass', namespaced: false },
  { group: 'discovery.k8s.io', versions: v1, resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  // Stored apart from core/v1 Events (kube-apiserver keeps one store for both; see "What is simplified").
  { group: 'events.k8s.io', versions: v1, resource: 'events', kind: 'Event', namespaced: true },
  { group: 'scheduling.k8s.io', versions: v1, resource: 'priorityclasses', kind: 'PriorityClass', namespaced: false, shortNames: ['pc'] },
  { group: 'storage.k8s.io', versions: v1, resource: 'storageclasses', kind: 'StorageClass', namespaced: false, shortNames: ['sc'] },
  { group: 'rbac.authorization.k8s.io', versions: v1, resource: 'roles', kind: 'Role', namespaced: true },
  { group: 'rbac.authorization.k8s.io', versions: v1, resource: 'rolebindings', kind: 'RoleBinding', namespaced: true },
  { group: 'rbac.authorization.k8s.io', versions: v1, resource: 'clusterroles', kind: 'ClusterRole', namespaced: false },
  { group: 'rbac.authorization.k8s.io', versions: v1, resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
  {
    group: 'apiextensions.k8s.io',
    versions: v1,
    resource: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    subresources: ['status'],
    categories: ['api-extensions'],
  },
  { group: 'coordination.k8s.io', versions: v1, resource: 'leases', kind: 'Lease', namespaced: true },
  // Create-only reviews, answered and never stored (reviews.ts): kubectl auth whoami / can-i.
  { group: 'authentication.k8s.io', versions: v1, resource: 'selfsubjectreviews', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] },
  { group: 'authentication.k8s.io', versions: v1, resource: 'tokenreviews', kind: 'TokenReview', namespaced: false, verbs: ['create'] },
  {
    group: 'authorization.k8s.io',
    versions: v1,
    resource: 'selfsubjectaccessreviews',
    kind: 'SelfSubjectAccessReview',
    namespaced: false,
    verbs: ['create'],
  },
  { group: 'authorization.k8s.io', versions: v1, resource: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview', namespaced: false, verbs: ['create'] },
  { group: 'authorization.k8s.io', versions: v1, resource: 'subjectaccessreviews', kind: 'SubjectAccessReview', namespaced: false, verbs: ['create'] },
  {
    group: 'flowcontrol.apiserver.k8s.io',
    versions: [
      { version: 'v1', introducedIn: 29 },
      { version: 'v1beta3', introducedIn: 26 },
    ],
    resource: 'flowschemas',
    kind: 'FlowSchema',
    namespaced: false,
    subresources: ['status'],
  },
  {
    group: 'flowcontrol.apiserver.k8s.io',
    versions: [
      { version: 'v1', introducedIn: 29 },
      { version: 'v1beta3', introducedIn: 26 },
    ],
    resource: 'prioritylevelconfigurations',
    kind: 'PriorityLevelConfiguration',
    namespaced: false,
    subresources: ['status'],
  },
  { group: 'helm.cattle.io', versions: v1, resource: 'helmcharts', kind: 'HelmChart', namespaced: true, subresources: ['status'], distribution: 'rke2' },
  { group: 'helm.cattle.io', versions: v1, resource: 'helmchartconfigs', kind: 'HelmChartConfig', namespaced: true, distribution: 'rke2' },
  // RKE2 (k3s) registers it in code and lists every etcd snapshot file, on disk or in S3, as one (cluster-scoped, no status subresource).
  { group: 'k3s.cattle.io', versions: v1, resource: 'etcdsnapshotfiles', kind: 'ETCDSnapshotFile', namespaced: false, distribution: 'rke2' },
];

/** The minor of a version string in any distribution's form: "1.32.4+rke2r1" -> 32. */
export function minorOf(version: string): number {
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  if (!match) throw new Error(`not a Kubernetes version: ${version}`);
  return Number(match[2]);
}

function removedIn(apiVersion: string, kind: string): number | undefined {
  const row = REMOVED_APIS.find((r) => r.apiVersion === apiVersion && r.kind === kind);
  return row ? minorOf(row.removedIn) : undefined;
}

/** Whether a server of `minor` serves `group/version` of `kind`. */
export function served(group: string, version: string, kind: string, minor: number, introducedIn?: number): boolean {
  const gone = removedIn(group ? `${group}/${version}` : version, kind);
  return (introducedIn === undefined || minor >= introducedIn) && (gone === undefined || minor < gone);
}

/** The built-in resources an API server of this distribution and version serves. */
export function builtInResources(info: Pick<ApiServerInfo, 'distribution' | 'version'>): ResourceType[] {
  const minor = minorOf(info.version);
  return BUILT_INS.filter((b) => !b.distribution || b.distribution === info.distribution).flatMap((b) => {
    const versions = b.versions.filter((v) => served(b.group, v.version, b.kind, minor, v.introducedIn)).map((v) => v.version);
    if (versions.length === 0) return [];
    return [
      {
        group: b.group,
        versions,
        resource: b.resource,
        singular: b.kind.toLowerCase(),
        kind: b.kind,
        listKind: `${b.kind}List`,
        namespaced: b.namespaced,
        shortNames: b.shortNames ?? [],
        verbs: b.verbs ?? ALL_VERBS,
        subresources: b.subresources ?? [],
        categories: b.categories ?? [],
      },
    ];
  });
}

interface CrdBody {
  spec?: {
    group?: string;
    scope?: string;
    names?: { plural?: string; singular?: string; kind?: string; listKind?: string; shortNames?: string[]; categories?: string[] };
    versions?: {
      name: string;
      served?: boolean;
      storage?: boolean;
      subresources?: { status?: unknown; scale?: unknown };
      additionalPrinterColumns?: PrinterColumn[];
      schema?: { openAPIV3Schema?: unknown };
    }[];
  };
  metadata?: { deletionTimestamp?: string };
}

/** What a CustomResourceDefinition serves; null when it is malformed or serves nothing. */
export function crdResource(crd: CrdBody): ResourceType | null {
  const spec = crd.spec;
  const names = spec?.names;
  if (!spec?.group || !names?.plural || !names.kind || !Array.isArray(spec.versions)) return null;
  const versions = spec.versions.filter((v) => v.served !== false);
  if (versions.length === 0) return null;
  // Kubernetes' discovery orders versions by its version priority: GA > beta > alpha, higher first.
  versions.sort((a, b) => versionPriority(b.name) - versionPriority(a.name));
  const preferred = versions[0]!;
  return {
    group: spec.group,
    versions: versions.map((v) => v.name),
    resource: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    namespaced: spec.scope !== 'Cluster',
    shortNames: names.shortNames ?? [],
    verbs: ALL_VERBS,
    subresources: [...(preferred.subresources?.status ? ['status'] : []), ...(preferred.subresources?.scale ? ['scale'] : [])],
    categories: names.categories ?? [],
    printerColumns: preferred.additionalPrinterColumns,
    schemas: Object.fromEntries(versions.map((v) => [v.name, v.schema?.openAPIV3Schema])),
  };
}

/** v1 > v1beta2 > v1beta1 > v1alpha1 > anything else, as kube-apiserver sorts versions. */
export function versionPriority(version: string): number {
  const match = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(version);
  if (!match) return 0;
  const major = Number(match[1]);
  const stage = match[2] === undefined ? 3 : match[2] === 'beta' ? 2 : 1;
  return stage * 1_000_000 + major * 1000 + Number(match[3] ?? 0);
}

/** Looks resources up the ways the REST paths and the in-process client name them. */
export class ResourceIndex {
  constructor(readonly types: readonly ResourceType[]) {}

  /** By group + plural (the REST path), only if `version` is served. */
  byResource(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.resource === resource && t.versions.includes(version));
  }

  /** By group + plural in whatever version is served (the store's key). */
  byGroupResource(group: string, resource: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.resource === resource);
  }

  /** By `apiVersion` + kind (an object's own header), only if that version is served. */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const { group, version } = splitApiVersion(apiVersion);
    return this.types.find((t) => t.group === group && t.kind === kind && t.versions.includes(version));
  }

  /** Every served group/version with its resources, for discovery; groups in first-seen order. */
  groupVersions(): Map<string, Map<string, ResourceType[]>> {
    const groups = new Map<string, Map<string, ResourceType[]>>();
    for (const type of this.types) {
      const versions = groups.get(type.group) ?? new Map<string, ResourceType[]>();
      groups.set(type.group, versions);
      for (const version of type.versions) versions.set(version, [...(versions.get(version) ?? []), type]);
    }
    return groups;
  }
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export function joinApiVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}
