import { createHash } from 'node:crypto';
import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import { isTerminating, labelsOf, NODE, POD, podSpec, refOf } from './model';
import { createIfAbsent, deleteIfPresent, reconcileScope } from './runtime';

/**
 * Static pods: what the kubelet runs from manifests on the node's disk and mirrors into the API
 * (annotation `kubernetes.io/config.mirror`, owned by the Node). RKE2 runs kube-proxy on every
 * node and etcd plus the control-plane components on server nodes; GKE runs kube-proxy on every
 * node. `kubectl drain` leaves mirror pods alone, as it does on a real cluster.
 */
const CONTROL_PLANE_ROLE = 'node-role.kubernetes.io/control-plane';

interface StaticPod {
  component: string;
  image: string;
  controlPlaneOnly: boolean;
}

function manifests(info: Pick<ApiServerInfo, 'distribution' | 'version'>): StaticPod[] {
  const tag = `v${info.version.replace(/^v/, '')}`;
  if (info.distribution === 'gke') return [{ component: 'kube-proxy', image: `gke.gcr.io/kube-proxy-amd64:${tag}`, controlPlaneOnly: false }];
  const image = `rancher/hardened-kubernetes:${tag.replace('+', '-')}-build20251015`;
  return [
    { component: 'kube-proxy', image, controlPlaneOnly: false },
    { component: 'etcd', image: 'rancher/hardened-etcd:v3.6.14-k3s1-build20251015', controlPlaneOnly: true },
    { component: 'kube-apiserver', image, controlPlaneOnly: true },
    { component: 'kube-controller-manager', image, controlPlaneOnly: true },
    { component: 'kube-scheduler', image, controlPlaneOnly: true },
    { component: 'cloud-controller-manager', image: 'rancher/rke2-cloud-provider:v1.36.0-build20251015', controlPlaneOnly: true },
  ];
}

export function mirrorPods(node: KubeObject, info: Pick<ApiServerInfo, 'distribution' | 'version'>): KubeObject[] {
  const controlPlane = labelsOf(node)[CONTROL_PLANE_ROLE] !== undefined;
  return manifests(info)
    .filter((m) => controlPlane || !m.controlPlaneOnly)
    .map((m) => {
      const hash = createHash('md5').update(`${node.metadata.name}/${m.component}/${m.image}`).digest('hex');
      return {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${m.component}-${node.metadata.name}`,
          namespace: 'kube-system',
          labels: { component: m.component, tier: 'control-plane' },
          annotations: { 'kubernetes.io/config.hash': hash, 'kubernetes.io/config.mirror': hash, 'kubernetes.io/config.source': 'file' },
          ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.metadata.name, uid: node.metadata.uid!, controller: true }],
        },
        spec: {
          nodeName: node.metadata.name,
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          priority: 2000001000,
          tolerations: [{ operator: 'Exists', effect: 'NoExecute' }],
          containers: [{ name: m.component, image: m.image, imagePullPolicy: 'IfNotPresent' }],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          schedulerName: 'default-scheduler',
        },
        status: { phase: 'Pending', qosClass: 'Burstable' },
      };
    });
}

export const staticPodController: EmulatedController = {
  name: 'workload/static-pods',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, info: ApiServerInfo, context: ControllerContext) {
    if (!reconcileScope(server, context, ['Node'], 'workload/static-pods')) return;
    if (context.event && context.event.type === 'MODIFIED') return;
    const nodes = (await server.list(NODE.apiVersion, NODE.kind)).filter((node) => !isTerminating(node));
    const mirrors = (await server.list(POD.apiVersion, POD.kind, { namespace: 'kube-system' })).filter(
      (pod) => pod.metadata.annotations?.['kubernetes.io/config.mirror'],
    );
    const wanted = nodes.flatMap((node) => mirrorPods(node, info));
    const have = new Map(mirrors.map((pod) => [pod.metadata.name, pod]));
    for (const pod of wanted) {
      const existing = have.get(pod.metadata.name);
      if (existing && existing.metadata.ownerReferences?.[0]?.uid === pod.metadata.ownerReferences?.[0]?.uid) continue;
      // A mirror pod of an earlier node of the same name is replaced.
      if (existing) await deleteIfPresent(server, refOf(existing));
      await createIfAbsent(server, pod);
    }
    const names = new Set(wanted.map((pod) => pod.metadata.name));
    for (const pod of mirrors)
      if (!names.has(pod.metadata.name) && nodes.some((n) => n.metadata.name === podSpec(pod).nodeName)) await deleteIfPresent(server, refOf(pod));
  },
};
