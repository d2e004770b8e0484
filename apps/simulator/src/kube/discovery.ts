import { versionPriority, type ResourceIndex, type ResourceType } from './resources';

/**
 * The plain (unaggregated) discovery documents. kubectl 1.32 asks for aggregated discovery
 * (`as=APIGroupDiscoveryList`) first and accepts these in its place, as it does from older servers.
 */
export function apiVersions(): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] };
}

export function apiGroupList(index: ResourceIndex): unknown {
  const groups = [...index.groupVersions()]
    .filter(([group]) => group !== '')
    .map(([group, versions]) => {
      const names = [...versions.keys()].sort((a, b) => versionPriority(b) - versionPriority(a));
      const list = names.map((version) => ({ groupVersion: `${group}/${version}`, version }));
      return { name: group, versions: list, preferredVersion: list[0] };
    });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** `/api/v1` or `/apis/<group>/<version>`; null when that group/version is not served. */
export function apiResourceList(index: ResourceIndex, group: string, version: string): unknown {
  const types = index.groupVersions().get(group)?.get(version);
  if (!types) return null;
  const resources = types.flatMap((type) => [resourceEntry(type), ...type.subresources.map((sub) => subresourceEntry(type, sub))]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function resourceEntry(type: ResourceType): unknown {
  return {
    name: type.resource,
    singularName: type.singular,
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: type.verbs,
    ...(type.shortNames.length > 0 ? { shortNames: type.shortNames } : {}),
    ...(type.categories.length > 0 ? { categories: type.categories } : {}),
    storageVersionHash: '',
  };
}

const SUBRESOURCE_KINDS: Record<string, { kind: string; group?: string; version?: string; verbs: string[] }> = {
  status: { kind: '', verbs: ['get', 'patch', 'update'] },
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
  token: { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] },
  finalize: { kind: '', verbs: ['update'] },
  log: { kind: 'Pod', verbs: ['get'] },
  binding: { kind: 'Binding', verbs: ['create'] },
};

function subresourceEntry(type: ResourceType, subresource: string): unknown {
  const shape = SUBRESOURCE_KINDS[subresource] ?? { kind: type.kind, verbs: ['get'] };
  return {
    name: `${type.resource}/${subresource}`,
    singularName: '',
    namespaced: type.namespaced,
    kind: shape.kind || type.kind,
    ...(shape.group ? { group: shape.group, version: shape.version } : {}),
    verbs: shape.verbs,
  };
}
