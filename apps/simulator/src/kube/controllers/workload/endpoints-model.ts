import type { KubeObject, OwnerReference } from '../../types';
import { canonicalJson, conditionOf, podPhase, podSpec } from './model';

/**
 * What kube-controller-manager's endpoints, EndpointSlice and EndpointSlice mirroring controllers
 * and kube-apiserver's endpoint reconciler would write for a Service, as pure functions of the
 * Service, its namespace's pods and the nodes (endpoints.ts does the reading and writing):
 *
 * - Endpoints `<service>` (core/v1): ready pods under `addresses`, the others under
 *   `notReadyAddresses`, pods being deleted left out (unless `publishNotReadyAddresses`), one
 *   subset per distinct set of resolved ports; labelled `endpointslice.kubernetes.io/skip-mirror`
 *   so the mirroring controller leaves it alone.
 * - EndpointSlices `<service>-xxxxx` (discovery.k8s.io/v1, IPv4): one endpoint per pod with an IP,
 *   terminating pods included with conditions ready/serving/terminating, grouped by resolved
 *   ports, at most 100 endpoints a slice, a placeholder slice (no ports, no endpoints) when no pod
 *   matches; owned by the Service.
 * - Mirrored EndpointSlices for a Service without selector whose Endpoints someone else wrote.
 * - `default/kubernetes`: the API servers' addresses on the secure port, Endpoints and a slice
 *   both named `kubernetes`.
 *
 * A targetPort that is a name is looked up among the pod's container ports with the service
 * port's protocol; a pod without it is left out of that port (upstream's FindPort).
 */

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
export const MIRRORING_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
/** The EndpointSlice controller's default `--max-endpoints-per-slice`. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
  appProtocol?: string;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

/** A slice's content: what the controller compares with what is stored. */
export interface SliceContent {
  ports: (EndpointPort & { name: string })[] | null;
  endpoints: SliceEndpoint[] | null;
}

interface ServiceSpec {
  selector?: Record<string, string> | null;
  ports?: ServicePort[];
  clusterIP?: string;
  publishNotReadyAddresses?: boolean;
}

export const serviceSpec = (service: KubeObject): ServiceSpec => (service.spec ?? {}) as ServiceSpec;

/** Services without a selector get no endpoints from the controllers (someone else writes them). */
export function hasSelector(service: KubeObject): boolean {
  const selector = serviceSpec(service).selector;
  return !!selector && typeof selector === 'object';
}

export function selectsPod(service: KubeObject, pod: KubeObject): boolean {
  const selector = serviceSpec(service).selector;
  if (!selector) return false;
  const labels = pod.metadata.labels ?? {};
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

const isHeadless = (service: KubeObject) => serviceSpec(service).clusterIP === 'None';

/** The container port a service port reaches on this pod, or null when the pod has no such named port. */
export function resolveTargetPort(pod: KubeObject, port: ServicePort): number | null {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  const protocol = port.protocol ?? 'TCP';
  for (const container of podSpec(pod).containers ?? []) {
    const ports = (container['ports'] as { name?: string; containerPort: number; protocol?: string }[] | undefined) ?? [];
    const found = ports.find((p) => p.name === target && (p.protocol ?? 'TCP') === protocol);
    if (found) return found.containerPort;
  }
  return null;
}

function endpointPort(port: ServicePort, number: number): EndpointPort {
  const out: EndpointPort = { port: number, protocol: port.protocol ?? 'TCP' };
  if (port.name) out.name = port.name;
  if (port.appProtocol) out.appProtocol = port.appProtocol;
  return out;
}

/** The ports this pod serves the Service on; [] when the Service has none. */
function podPorts(service: KubeObject, pod: KubeObject): EndpointPort[] {
  const ports: EndpointPort[] = [];
  for (const port of serviceSpec(service).ports ?? []) {
    const number = resolveTargetPort(pod, port);
    if (number !== null) ports.push(endpointPort(port, number));
  }
  return ports;
}

const podIP = (pod: KubeObject) => pod.status?.['podIP'] as string | undefined;
const isTerminal = (pod: KubeObject) => ['Succeeded', 'Failed'].includes(podPhase(pod));
const hasReadyCondition = (pod: KubeObject) => conditionOf(pod, 'Ready')?.status === 'True';

function targetRef(pod: KubeObject): EndpointAddress['targetRef'] {
  return { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, uid: pod.metadata.uid ?? '' };
}

/** A pod's DNS hostname in the Service: only when its `subdomain` names the Service. */
function hostnameIn(service: KubeObject, pod: KubeObject): string | undefined {
  const spec = podSpec(pod) as { hostname?: string; subdomain?: string };
  return spec.hostname && spec.subdomain === service.metadata.name ? spec.hostname : undefined;
}

const byIP = <T extends { ip: string }>(a: T, b: T) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);

/** The Endpoints object's `subsets` for a Service with a selector (empty: no subsets at all). */
export function endpointSubsets(service: KubeObject, pods: readonly KubeObject[]): EndpointSubset[] {
  const publishNotReady = serviceSpec(service).publishNotReadyAddresses === true;
  const hasPorts = (serviceSpec(service).ports ?? []).length > 0;
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of pods) {
    const ip = podIP(pod);
    if (!ip || isTerminal(pod) || !selectsPod(service, pod)) continue;
    if (pod.metadata.deletionTimestamp && !publishNotReady) continue;
    const ports = podPorts(service, pod);
    // A Service with ports lists a pod only for the ports it resolves; a headless one without ports lists every pod.
    if (hasPorts ? ports.length === 0 : !isHeadless(service)) continue;
    const address: EndpointAddress = { ip, ...optional('hostname', hostnameIn(service, pod)) };
    if (podSpec(pod).nodeName) address.nodeName = podSpec(pod).nodeName;
    address.targetRef = targetRef(pod);
    const key = canonicalJson(ports);
    const group = groups.get(key) ?? { ports, ready: [], notReady: [] };
    groups.set(key, group);
    (publishNotReady || hasReadyCondition(pod) ? group.ready : group.notReady).push(address);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, group]) => {
      const subset: EndpointSubset = {};
      if (group.ready.length) subset.addresses = group.ready.sort(byIP);
      if (group.notReady.length) subset.notReadyAddresses = group.notReady.sort(byIP);
      if (group.ports.length) subset.ports = group.ports;
      return subset;
    });
}

/** The EndpointSlices' contents for a Service with a selector: one per port set and 100 endpoints, or a placeholder. */
export function sliceContents(service: KubeObject, pods: readonly KubeObject[], zoneOf: (node: string) => string | undefined): SliceContent[] {
  const publishNotReady = serviceSpec(service).publishNotReadyAddresses === true;
  const hasPorts = (serviceSpec(service).ports ?? []).length > 0;
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: SliceEndpoint[] }>();
  for (const pod of pods) {
    const ip = podIP(pod);
    if (!ip || isTerminal(pod) || !selectsPod(service, pod)) continue;
    const ports = podPorts(service, pod);
    if (hasPorts && ports.length === 0) continue;
    const terminating = !!pod.metadata.deletionTimestamp;
    const serving = publishNotReady || hasReadyCondition(pod);
    const endpoint: SliceEndpoint = {
      addresses: [ip],
      conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
      ...optional('hostname', hostnameIn(service, pod)),
    };
    const nodeName = podSpec(pod).nodeName;
    if (nodeName) {
      endpoint.nodeName = nodeName;
      const zone = zoneOf(nodeName);
      if (zone) endpoint.zone = zone;
    }
    endpoint.targetRef = targetRef(pod);
    const key = canonicalJson(ports);
    const group = groups.get(key) ?? { ports, endpoints: [] };
    groups.set(key, group);
    group.endpoints.push(endpoint);
  }
  if (groups.size === 0) return [{ ports: null, endpoints: null }];
  const slices: SliceContent[] = [];
  for (const [, group] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // Slice ports always carry a name, "" for an unnamed port (the field is a pointer upstream).
    const ports = group.ports.map((p) => ({ ...p, name: p.name ?? '' }));
    const endpoints = group.endpoints.sort((a, b) => (a.addresses[0]! < b.addresses[0]! ? -1 : 1));
    for (let i = 0; i < endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) slices.push({ ports, endpoints: endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  }
  return slices;
}

/** The mirroring controller's slices for Endpoints written by someone else: one per subset (and 100 addresses). */
export function mirroredSliceContents(endpoints: KubeObject): SliceContent[] {
  const subsets = (endpoints['subsets'] as EndpointSubset[] | undefined) ?? [];
  const slices: SliceContent[] = [];
  for (const subset of subsets) {
    const ports = (subset.ports ?? []).map((p) => ({ ...p, name: p.name ?? '', protocol: p.protocol ?? 'TCP' }));
    const toEndpoint = (address: EndpointAddress, ready: boolean): SliceEndpoint => ({
      addresses: [address.ip],
      conditions: { ready },
      ...optional('hostname', address.hostname),
      ...optional('nodeName', address.nodeName),
      ...optional('targetRef', address.targetRef),
    });
    const all = [...(subset.addresses ?? []).map((a) => toEndpoint(a, true)), ...(subset.notReadyAddresses ?? []).map((a) => toEndpoint(a, false))];
    for (let i = 0; i < all.length; i += MAX_ENDPOINTS_PER_SLICE) slices.push({ ports, endpoints: all.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  }
  return slices;
}

/** Labels of a controller-written Endpoints: the Service's, plus skip-mirror (and headless). */
export function endpointsLabels(service: KubeObject): Record<string, string> {
  return { ...service.metadata.labels, [SKIP_MIRROR_LABEL]: 'true', ...(isHeadless(service) ? { [HEADLESS_LABEL]: '' } : {}) };
}

/** Labels of a controller-written slice: the Service's (or mirrored Endpoints'), the service name and the manager. */
export function sliceLabels(source: KubeObject, serviceName: string, managedBy: string, headless = false): Record<string, string> {
  const labels = { ...source.metadata.labels };
  delete labels[SKIP_MIRROR_LABEL];
  return { ...labels, [SERVICE_NAME_LABEL]: serviceName, [MANAGED_BY_LABEL]: managedBy, ...(headless ? { [HEADLESS_LABEL]: '' } : {}) };
}

export function sliceObject(
  owner: KubeObject,
  ownerRef: OwnerReference,
  serviceName: string,
  labels: Record<string, string>,
  content: SliceContent,
  at: string,
): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: '',
      generateName: `${serviceName}-`,
      namespace: owner.metadata.namespace,
      labels,
      annotations: { [TRIGGER_TIME_ANNOTATION]: at },
      ownerReferences: [ownerRef],
    },
    addressType: 'IPv4',
    endpoints: content.endpoints,
    ports: content.ports,
  };
}

/** What a stored slice holds, in the form `SliceContent` compares against. */
export function storedSliceContent(slice: KubeObject): SliceContent {
  return {
    ports: (slice['ports'] as SliceContent['ports'] | undefined) ?? null,
    endpoints: (slice['endpoints'] as SliceContent['endpoints'] | undefined) ?? null,
  };
}

/** A key that equal port lists share, to reuse a stored slice for new content of the same ports. */
export const portsKey = (content: SliceContent) => canonicalJson(content.ports ?? null);

/**
 * Pairs stored slices with wanted contents: a stored slice of the same ports is reused (updated if
 * its content differs), the rest are created, and stored slices left over are deleted.
 */
export function planSlices(
  stored: readonly KubeObject[],
  wanted: readonly SliceContent[],
): { keep: { slice: KubeObject; content: SliceContent; changed: boolean }[]; create: SliceContent[]; remove: KubeObject[] } {
  const pool = [...stored].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  const keep: { slice: KubeObject; content: SliceContent; changed: boolean }[] = [];
  const create: SliceContent[] = [];
  // Unchanged slices first, so that a reshuffle does not rewrite slices that already hold the right content.
  const unmatched: SliceContent[] = [];
  for (const content of wanted) {
    const index = pool.findIndex((slice) => canonicalJson(storedSliceContent(slice)) === canonicalJson(content));
    if (index >= 0) keep.push({ slice: pool.splice(index, 1)[0]!, content, changed: false });
    else unmatched.push(content);
  }
  for (const content of unmatched) {
    const index = pool.findIndex((slice) => portsKey(storedSliceContent(slice)) === portsKey(content));
    if (index >= 0) keep.push({ slice: pool.splice(index, 1)[0]!, content, changed: true });
    else create.push(content);
  }
  return { keep, create, remove: pool };
}

/**
 * The `default/kubernetes` endpoints: the API servers' addresses on their secure port (6443 on
 * RKE2 and kubeadm, 443 on GKE), as kube-apiserver's lease reconciler keeps them.
 */
export function apiServerEndpoints(addresses: readonly string[], port: number): { subsets: EndpointSubset[]; slice: SliceContent } {
  const sorted = [...addresses].sort();
  return {
    subsets: [{ addresses: sorted.map((ip) => ({ ip })), ports: [{ name: 'https', port, protocol: 'TCP' }] }],
    slice: { ports: [{ name: 'https', port, protocol: 'TCP' }], endpoints: sorted.map((ip) => ({ addresses: [ip], conditions: { ready: true } })) },
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
