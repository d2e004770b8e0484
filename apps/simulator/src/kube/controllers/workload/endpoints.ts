import type { ApiServerClient, ApiServerInfo, ChangeEvent, ControllerContext, EmulatedController, KubeObject } from '../../types';
import {
  apiServerEndpoints,
  endpointsLabels,
  endpointSubsets,
  hasSelector,
  MANAGED_BY_LABEL,
  MIRRORING_CONTROLLER,
  mirroredSliceContents,
  planSlices,
  SERVICE_NAME_LABEL,
  serviceSpec,
  SKIP_MIRROR_LABEL,
  SLICE_CONTROLLER,
  type SliceContent,
  sliceContents,
  sliceLabels,
  sliceObject,
  TRIGGER_TIME_ANNOTATION,
} from './endpoints-model';
import { NODE, POD, refOf, sameJson, timestamp } from './model';
import { isNodeReady } from './nodes';
import { createIfAbsent, deleteIfPresent, listOptions, racing, reconcileScope } from './runtime';

const SERVICE = { apiVersion: 'v1', kind: 'Service' } as const;
const ENDPOINTS = { apiVersion: 'v1', kind: 'Endpoints' } as const;
const SLICE = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' } as const;
const CONTROLLER = 'workload/endpoints';
const ZONE_LABEL = 'topology.kubernetes.io/zone';

/**
 * The endpoints, EndpointSlice and EndpointSlice mirroring controllers of kube-controller-manager,
 * and kube-apiserver's own `default/kubernetes` endpoints (what each writes: endpoints-model.ts).
 * Runs on Service, Pod, Endpoints, EndpointSlice and Node events, for the event's namespace.
 *
 * Its own writes come back as events; it remembers what it wrote (kind, name, resourceVersion)
 * and lets those pass without a run, so keeping a Service's endpoints costs one round of lists
 * per pod or Service change, not two.
 */
export const endpointsController: EmulatedController = {
  name: CONTROLLER,
  roles: ['workload'],
  async reconcile(server: ApiServerClient, info: ApiServerInfo, context: ControllerContext) {
    if (context.event && isOwnEcho(context.event)) return;
    const scope = reconcileScope(server, context, ['Service', 'Pod', 'Endpoints', 'EndpointSlice', 'Node'], CONTROLLER);
    if (!scope) return;
    const services = await server.list(SERVICE.apiVersion, SERVICE.kind, listOptions(scope));
    // No Service: a pod, a node or a sweep has nothing to act on (a fleet of empty clusters costs
    // one list a sweep); a Service, Endpoints or slice event may still leave something to clean up.
    const kind = context.event?.object.kind;
    if (services.length === 0 && (kind === undefined || kind === 'Pod' || kind === 'Node')) return;
    const [endpointsList, slices] = await Promise.all([
      server.list(ENDPOINTS.apiVersion, ENDPOINTS.kind, listOptions(scope)),
      server.list(SLICE.apiVersion, SLICE.kind, listOptions(scope)),
    ]);
    const selecting = services.filter((svc) => hasSelector(svc) && !svc.metadata.deletionTimestamp);
    const apiService = services.find((svc) => svc.metadata.namespace === 'default' && svc.metadata.name === 'kubernetes' && !hasSelector(svc));
    const pods = selecting.length ? await server.list(POD.apiVersion, POD.kind, listOptions(scope)) : [];
    const nodes = selecting.length || apiService ? await server.list(NODE.apiVersion, NODE.kind) : [];
    const zones = new Map(nodes.map((n) => [n.metadata.name, n.metadata.labels?.[ZONE_LABEL]]));
    const at = timestamp(context.now());
    const writer = new Writer(server, at);

    const byKey = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
    const endpointsByService = new Map(endpointsList.map((ep) => [byKey(ep), ep]));
    const slicesByService = new Map<string, KubeObject[]>();
    for (const slice of slices) {
      const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
      if (!name) continue;
      const key = `${slice.metadata.namespace}/${name}`;
      slicesByService.set(key, [...(slicesByService.get(key) ?? []), slice]);
    }
    const managedBy = (key: string, manager: string) => (slicesByService.get(key) ?? []).filter((s) => s.metadata.labels?.[MANAGED_BY_LABEL] === manager);

    for (const service of selecting) {
      const key = byKey(service);
      const headless = serviceSpec(service).clusterIP === 'None';
      await writer.endpoints(service, endpointsByService.get(key), endpointSubsets(service, pods), endpointsLabels(service));
      const labels = sliceLabels(service, service.metadata.name, SLICE_CONTROLLER, headless);
      const wanted = sliceContents(service, pods, (node) => zones.get(node));
      await writer.slices(service, ownerRef(service), managedBy(key, SLICE_CONTROLLER), wanted, labels);
      // Slices the mirroring controller wrote while the Service had no selector are its to remove.
      for (const stale of managedBy(key, MIRRORING_CONTROLLER)) await writer.remove(stale);
    }

    if (apiService)
      await writer.apiServer(
        apiService,
        endpointsByService.get('default/kubernetes'),
        slicesByService.get('default/kubernetes') ?? [],
        apiAddresses(info, nodes),
        apiPort(info),
      );

    const live = new Map(services.filter((svc) => !svc.metadata.deletionTimestamp).map((svc) => [byKey(svc), svc]));
    // Mirroring: Endpoints someone else wrote for a Service without selector.
    for (const endpoints of endpointsList) {
      const key = byKey(endpoints);
      const service = live.get(key);
      const mine = endpoints.metadata.labels?.[SKIP_MIRROR_LABEL] === 'true';
      if (mine && (!service || !hasSelector(service)) && service !== apiService) {
        // The Service is gone or lost its selector: its controller-written Endpoints go with it.
        await writer.remove(endpoints);
        continue;
      }
      if (mine || !service || hasSelector(service) || endpoints.metadata.deletionTimestamp) continue;
      const labels = sliceLabels(endpoints, service.metadata.name, MIRRORING_CONTROLLER);
      await writer.slices(endpoints, ownerRef(endpoints), managedBy(key, MIRRORING_CONTROLLER), mirroredSliceContents(endpoints), labels);
    }
    // Slices whose source is gone (the garbage collector also removes them with their owner).
    for (const [key, group] of slicesByService) {
      const service = live.get(key);
      const endpoints = endpointsByService.get(key);
      for (const slice of group) {
        const manager = slice.metadata.labels?.[MANAGED_BY_LABEL];
        const orphan =
          (manager === SLICE_CONTROLLER && (!service || !hasSelector(service))) ||
          (manager === MIRRORING_CONTROLLER && (!service || hasSelector(service) || !endpoints || endpoints.metadata.labels?.[SKIP_MIRROR_LABEL] === 'true'));
        if (orphan) await writer.remove(slice);
      }
    }
  },
};

/** Writes what differs, remembering each write so that its echo does not start another run. */
class Writer {
  constructor(
    private readonly server: ApiServerClient,
    private readonly at: string,
  ) {}

  async endpoints(service: KubeObject, stored: KubeObject | undefined, subsets: unknown[], labels: Record<string, string>): Promise<void> {
    const storedSubsets = (stored?.['subsets'] as unknown[] | undefined) ?? [];
    if (stored && sameJson(storedSubsets, subsets) && sameJson(stored.metadata.labels ?? {}, labels)) return;
    const metadata = { name: service.metadata.name, namespace: service.metadata.namespace, labels, annotations: { [TRIGGER_TIME_ANNOTATION]: this.at } };
    const object: KubeObject = { ...ENDPOINTS, metadata, ...(subsets.length ? { subsets } : {}) };
    const written = stored
      ? await racing(() =>
          this.server.update({
            ...object,
            metadata: { ...stored.metadata, ...metadata, annotations: { ...stored.metadata.annotations, ...metadata.annotations } },
          }),
        )
      : await createIfAbsent(this.server, object);
    remember(this.server.name, written);
  }

  async slices(
    owner: KubeObject,
    reference: ReturnType<typeof ownerRef>,
    stored: KubeObject[],
    wanted: SliceContent[],
    labels: Record<string, string>,
  ): Promise<void> {
    const plan = planSlices(stored, wanted);
    const serviceName = labels[SERVICE_NAME_LABEL]!;
    for (const { slice, content, changed } of plan.keep) {
      if (!changed && sameJson(slice.metadata.labels ?? {}, labels)) continue;
      const fresh = sliceObject(owner, reference, serviceName, labels, content, this.at);
      const written = await racing(() =>
        this.server.update({
          ...slice,
          ...fresh,
          metadata: { ...slice.metadata, labels, annotations: { ...slice.metadata.annotations, ...fresh.metadata.annotations } },
        }),
      );
      remember(this.server.name, written);
    }
    for (const content of plan.create)
      remember(this.server.name, await createIfAbsent(this.server, sliceObject(owner, reference, serviceName, labels, content, this.at)));
    for (const slice of plan.remove) await this.remove(slice);
  }

  /** `default/kubernetes`: Endpoints and a slice both named `kubernetes`, neither managed by a controller. */
  async apiServer(service: KubeObject, stored: KubeObject | undefined, storedSlices: KubeObject[], addresses: string[], port: number): Promise<void> {
    const { subsets, slice } = apiServerEndpoints(addresses, port);
    const labels = { [SKIP_MIRROR_LABEL]: 'true' };
    if (!stored || !sameJson(stored['subsets'] ?? [], subsets) || !sameJson(stored.metadata.labels ?? {}, labels)) {
      const object: KubeObject = { ...ENDPOINTS, metadata: { ...stored?.metadata, name: 'kubernetes', namespace: 'default', labels }, subsets };
      remember(this.server.name, stored ? await racing(() => this.server.update(object)) : await createIfAbsent(this.server, object));
    }
    const current = storedSlices.find((s) => s.metadata.name === 'kubernetes');
    const sliceLabels = { [SERVICE_NAME_LABEL]: service.metadata.name };
    if (current && sameJson({ ports: current['ports'], endpoints: current['endpoints'] }, slice) && sameJson(current.metadata.labels ?? {}, sliceLabels))
      return;
    const object: KubeObject = {
      ...SLICE,
      metadata: { ...current?.metadata, name: 'kubernetes', namespace: 'default', labels: sliceLabels },
      addressType: 'IPv4',
      endpoints: slice.endpoints,
      ports: slice.ports,
    };
    remember(this.server.name, current ? await racing(() => this.server.update(object)) : await createIfAbsent(this.server, object));
  }

  async remove(object: KubeObject): Promise<void> {
    deleted.add(echoKey(this.server.name, object, 'DELETED'));
    await deleteIfPresent(this.server, refOf(object));
  }
}

function ownerRef(owner: KubeObject) {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * Where kube-apiserver listens: every control-plane node of an RKE2 (or kubeadm) cluster runs
 * one, so those nodes' InternalIPs (Ready ones; all of them before any is Ready). A cluster
 * without control-plane nodes (GKE's control plane is not a node, and tests add workers only)
 * gets one address derived from its name in the range the distribution uses for it.
 */
export function apiAddresses(info: ApiServerInfo, nodes: readonly KubeObject[]): string[] {
  const internal = (node: KubeObject) =>
    ((node.status?.['addresses'] as { type: string; address: string }[] | undefined) ?? []).find((a) => a.type === 'InternalIP')?.address;
  if (info.distribution !== 'gke') {
    const servers = nodes.filter((n) => n.metadata.labels?.['node-role.kubernetes.io/control-plane'] !== undefined);
    const ready = servers.filter(isNodeReady);
    const ips = (ready.length ? ready : servers).map(internal).filter((ip): ip is string => !!ip);
    if (ips.length) return ips;
  }
  let hash = 0;
  for (const char of info.name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return [info.distribution === 'gke' ? `172.16.${hash % 256}.2` : `10.0.${hash % 256}.${2 + ((hash >>> 8) % 250)}`];
}

const apiPort = (info: ApiServerInfo) => (info.distribution === 'gke' ? 443 : 6443);

/** Writes of this process not yet seen as events, by server, kind, namespace, name and resourceVersion. */
const written = new Set<string>();
const deleted = new Set<string>();

function echoKey(server: string, object: KubeObject, suffix: string): string {
  return `${server}\u0000${object.kind}\u0000${object.metadata.namespace ?? ''}\u0000${object.metadata.name}\u0000${suffix}`;
}

function remember(server: string, object: KubeObject | undefined): void {
  if (!object) return;
  written.add(echoKey(server, object, object.metadata.resourceVersion ?? ''));
  // Echoes that never arrive (another process's NOTIFY lost, a server removed) must not pile up.
  if (written.size > 10_000) written.clear();
  if (deleted.size > 10_000) deleted.clear();
}

function isOwnEcho(event: ChangeEvent): boolean {
  const { object } = event;
  if (object.kind !== 'Endpoints' && object.kind !== 'EndpointSlice') return false;
  const key = event.type === 'DELETED' ? echoKey(event.server, object, 'DELETED') : echoKey(event.server, object, object.metadata.resourceVersion ?? '');
  const set = event.type === 'DELETED' ? deleted : written;
  return set.delete(key);
}
