import type { ApiServerInfo, KubeObject } from '../../types';
import { systemStorageClasses } from './volumes-model';
import type { Toleration } from './selectors';

/**
 * What a freshly installed cluster runs before its owner deploys anything, per distribution, so
 * `kubectl get pods -A` looks like a real cluster's and `kubectl drain` meets what it meets there:
 * DaemonSet pods (hence `--ignore-daemonsets`) and metrics-server's emptyDir (hence
 * `--delete-emptydir-data`). Versions follow docs/ (RKE2 1.33-1.36 bundle CoreDNS 1.14.6 and
 * Cilium 1.19.6); image tags are illustrative.
 */

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

const CRITICAL_ADDONS: Toleration[] = [
  { key: 'CriticalAddonsOnly', operator: 'Exists' },
  { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node-role.kubernetes.io/etcd', operator: 'Exists', effect: 'NoExecute' },
];
const EVERYWHERE: Toleration[] = [{ operator: 'Exists' }];

interface Workload {
  kind: 'Deployment' | 'DaemonSet';
  name: string;
  app: Record<string, string>;
  replicas?: number;
  serviceAccount: string;
  containers: { name: string; image: string; ports?: { containerPort: number; name: string; protocol: string }[] }[];
  tolerations: Toleration[];
  priorityClassName: 'system-cluster-critical' | 'system-node-critical';
  hostNetwork?: boolean;
  emptyDir?: string;
}

function rke2Workloads(): Workload[] {
  return [
    {
      kind: 'DaemonSet',
      name: 'cilium',
      app: { 'k8s-app': 'cilium' },
      serviceAccount: 'cilium',
      containers: [{ name: 'cilium-agent', image: 'rancher/mirrored-cilium-cilium:v1.19.6' }],
      tolerations: EVERYWHERE,
      priorityClassName: 'system-node-critical',
      hostNetwork: true,
    },
    {
      kind: 'DaemonSet',
      name: 'cilium-envoy',
      app: { 'k8s-app': 'cilium-envoy' },
      serviceAccount: 'cilium-envoy',
      containers: [{ name: 'cilium-envoy', image: 'rancher/mirrored-cilium-cilium-envoy:v1.34.4' }],
      tolerations: EVERYWHERE,
      priorityClassName: 'system-node-critical',
      hostNetwork: true,
    },
    {
      kind: 'Deployment',
      name: 'cilium-operator',
      app: { 'io.cilium/app': 'operator', name: 'cilium-operator' },
      replicas: 1,
      serviceAccount: 'cilium-operator',
      containers: [{ name: 'cilium-operator', image: 'rancher/mirrored-cilium-operator-generic:v1.19.6' }],
      tolerations: EVERYWHERE,
      priorityClassName: 'system-cluster-critical',
      hostNetwork: true,
    },
    {
      kind: 'Deployment',
      name: 'rke2-coredns-rke2-coredns',
      app: { 'app.kubernetes.io/instance': 'rke2-coredns', 'app.kubernetes.io/name': 'rke2-coredns', 'k8s-app': 'kube-dns' },
      replicas: 2,
      serviceAccount: 'coredns',
      containers: [
        {
          name: 'coredns',
          image: 'rancher/hardened-coredns:v1.14.6-build20251015',
          ports: [
            { containerPort: 53, name: 'udp-53', protocol: 'UDP' },
            { containerPort: 53, name: 'tcp-53', protocol: 'TCP' },
          ],
        },
      ],
      tolerations: CRITICAL_ADDONS,
      priorityClassName: 'system-cluster-critical',
    },
    {
      kind: 'Deployment',
      name: 'rke2-coredns-rke2-coredns-autoscaler',
      app: { 'app.kubernetes.io/instance': 'rke2-coredns', 'app.kubernetes.io/name': 'rke2-coredns-autoscaler', 'k8s-app': 'kube-dns-autoscaler' },
      replicas: 1,
      serviceAccount: 'rke2-coredns-rke2-coredns-autoscaler',
      containers: [{ name: 'autoscaler', image: 'rancher/hardened-cluster-autoscaler:v1.10.2-build20251015' }],
      tolerations: CRITICAL_ADDONS,
      priorityClassName: 'system-cluster-critical',
    },
    {
      kind: 'Deployment',
      name: 'rke2-metrics-server',
      app: { 'app.kubernetes.io/instance': 'rke2-metrics-server', 'app.kubernetes.io/name': 'rke2-metrics-server' },
      replicas: 1,
      serviceAccount: 'rke2-metrics-server',
      containers: [
        {
          name: 'metrics-server',
          image: 'rancher/hardened-k8s-metrics-server:v0.8.0-build20251015',
          ports: [{ containerPort: 10250, name: 'https', protocol: 'TCP' }],
        },
      ],
      tolerations: CRITICAL_ADDONS,
      priorityClassName: 'system-cluster-critical',
      emptyDir: 'tmp-dir',
    },
    {
      kind: 'Deployment',
      name: 'rke2-snapshot-controller',
      app: { 'app.kubernetes.io/instance': 'rke2-snapshot-controller', 'app.kubernetes.io/name': 'rke2-snapshot-controller' },
      replicas: 1,
      serviceAccount: 'rke2-snapshot-controller',
      containers: [{ name: 'rke2-snapshot-controller', image: 'rancher/hardened-snapshot-controller:v8.2.0-build20251015' }],
      tolerations: CRITICAL_ADDONS,
      priorityClassName: 'system-cluster-critical',
    },
  ];
}

function gkeWorkloads(): Workload[] {
  return [
    {
      kind: 'Deployment',
      name: 'kube-dns',
      app: { 'k8s-app': 'kube-dns' },
      replicas: 2,
      serviceAccount: 'kube-dns',
      containers: [
        { name: 'kubedns', image: 'gke.gcr.io/k8s-dns-kube-dns:1.26.4-gke.1' },
        { name: 'dnsmasq', image: 'gke.gcr.io/k8s-dns-dnsmasq-nanny:1.26.4-gke.1' },
        { name: 'sidecar', image: 'gke.gcr.io/k8s-dns-sidecar:1.26.4-gke.1' },
      ],
      tolerations: [
        { key: 'CriticalAddonsOnly', operator: 'Exists' },
        { key: 'components.gke.io/gke-managed-components', operator: 'Exists' },
      ],
      priorityClassName: 'system-cluster-critical',
    },
    {
      kind: 'Deployment',
      name: 'kube-dns-autoscaler',
      app: { 'k8s-app': 'kube-dns-autoscaler' },
      replicas: 1,
      serviceAccount: 'kube-dns-autoscaler',
      containers: [{ name: 'autoscaler', image: 'gke.gcr.io/cluster-proportional-autoscaler:v1.9.0-gke.4' }],
      tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
      priorityClassName: 'system-cluster-critical',
    },
    {
      kind: 'Deployment',
      name: 'metrics-server-v1.33.0',
      app: { 'k8s-app': 'metrics-server', version: 'v1.33.0' },
      replicas: 1,
      serviceAccount: 'metrics-server',
      containers: [
        { name: 'metrics-server', image: 'gke.gcr.io/metrics-server:v0.7.2-gke.11' },
        { name: 'metrics-server-nanny', image: 'gke.gcr.io/addon-resizer:1.8.23-gke.3' },
      ],
      tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
      priorityClassName: 'system-cluster-critical',
      emptyDir: 'tmp-dir',
    },
    {
      kind: 'Deployment',
      name: 'konnectivity-agent',
      app: { 'k8s-app': 'konnectivity-agent' },
      replicas: 2,
      serviceAccount: 'konnectivity-agent',
      containers: [{ name: 'konnectivity-agent', image: 'gke.gcr.io/proxy-agent:v0.32.1-gke.2' }],
      tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
      priorityClassName: 'system-cluster-critical',
    },
    {
      kind: 'Deployment',
      name: 'event-exporter-gke',
      app: { 'k8s-app': 'event-exporter' },
      replicas: 1,
      serviceAccount: 'event-exporter-sa',
      containers: [{ name: 'event-exporter', image: 'gke.gcr.io/event-exporter:v0.4.0-gke.1' }],
      tolerations: [{ key: 'components.gke.io/gke-managed-components', operator: 'Exists' }],
      priorityClassName: 'system-cluster-critical',
    },
    {
      kind: 'DaemonSet',
      name: 'fluentbit-gke',
      app: { 'k8s-app': 'fluentbit-gke' },
      serviceAccount: 'fluentbit-gke',
      containers: [
        { name: 'fluentbit', image: 'gke.gcr.io/fluent-bit:v1.8.12-gke.37' },
        { name: 'fluentbit-gke', image: 'gke.gcr.io/fluent-bit-gke-exporter:v0.28.0-gke.5' },
      ],
      tolerations: EVERYWHERE,
      priorityClassName: 'system-node-critical',
    },
    {
      kind: 'DaemonSet',
      name: 'gke-metrics-agent',
      app: { 'k8s-app': 'gke-metrics-agent' },
      serviceAccount: 'gke-metrics-agent',
      containers: [{ name: 'gke-metrics-agent', image: 'gke.gcr.io/gke-metrics-agent:1.15.8-gke.1' }],
      tolerations: EVERYWHERE,
      priorityClassName: 'system-node-critical',
    },
    {
      kind: 'DaemonSet',
      name: 'pdcsi-node',
      app: { 'k8s-app': 'gcp-compute-persistent-disk-csi-driver' },
      serviceAccount: 'pdcsi-node-sa',
      containers: [{ name: 'gce-pd-driver', image: 'gke.gcr.io/gcp-compute-persistent-disk-csi-driver:v1.17.4-gke.0' }],
      tolerations: EVERYWHERE,
      priorityClassName: 'system-node-critical',
      hostNetwork: true,
    },
  ];
}

function genericWorkloads(): Workload[] {
  return [
    {
      kind: 'Deployment',
      name: 'coredns',
      app: { 'k8s-app': 'kube-dns' },
      replicas: 2,
      serviceAccount: 'coredns',
      containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.12.1' }],
      tolerations: CRITICAL_ADDONS,
      priorityClassName: 'system-cluster-critical',
    },
    {
      kind: 'DaemonSet',
      name: 'kube-proxy',
      app: { 'k8s-app': 'kube-proxy' },
      serviceAccount: 'kube-proxy',
      containers: [{ name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.36.0' }],
      tolerations: EVERYWHERE,
      priorityClassName: 'system-node-critical',
      hostNetwork: true,
    },
  ];
}

/** Every object a new workload API server starts with, namespaces first, in creation order. */
export function systemObjects(info: Pick<ApiServerInfo, 'distribution'>, caCertificatePem: string): KubeObject[] {
  const workloads = info.distribution === 'rke2' ? rke2Workloads() : info.distribution === 'gke' ? gkeWorkloads() : genericWorkloads();
  const namespaces = SYSTEM_NAMESPACES.map((name) => namespaceObject(name));
  const accounts = [...new Set(workloads.map((w) => w.serviceAccount))].map((name): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, namespace: 'kube-system' },
  }));
  return [
    ...namespaces,
    ...SYSTEM_NAMESPACES.flatMap((ns) => namespaceDefaults(ns, caCertificatePem)),
    ...accounts,
    ...workloads.map(workloadObject),
    ...systemServices(info.distribution),
    ...SYSTEM_PRIORITY_CLASSES,
    ...systemStorageClasses(info.distribution),
  ];
}

/**
 * The PriorityClasses kube-apiserver creates at start on every cluster (its scheduling
 * post-start hook), which the system workloads above name in `priorityClassName`.
 */
const SYSTEM_PRIORITY_CLASSES: KubeObject[] = [
  {
    name: 'system-node-critical',
    value: 2_000_001_000,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    name: 'system-cluster-critical',
    value: 2_000_000_000,
    description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
].map(({ name, value, description }) => ({
  apiVersion: 'scheduling.k8s.io/v1',
  kind: 'PriorityClass',
  metadata: { name },
  value,
  globalDefault: false,
  description,
  preemptionPolicy: 'PreemptLowerPriority',
}));

/**
 * The Services every cluster has: `default/kubernetes` (kube-apiserver's own, the first address of
 * the service range) and the cluster DNS (the tenth, what kubelets' `clusterDNS` points at),
 * labelled `kubernetes.io/cluster-service` so `kubectl cluster-info` lists it. Service ranges:
 * RKE2's default 10.43.0.0/16, GKE's 34.118.224.0/20, kubeadm's 10.96.0.0/12.
 */
function systemServices(distribution: ApiServerInfo['distribution']): KubeObject[] {
  const prefix = distribution === 'rke2' ? '10.43.0' : distribution === 'gke' ? '34.118.224' : '10.96.0';
  const service = (namespace: string, name: string, labels: Record<string, string>, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels },
    spec: { type: 'ClusterIP', sessionAffinity: 'None', ...spec },
  });
  const dnsPorts = [
    { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
    { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
  ];
  const dns =
    distribution === 'rke2'
      ? service(
          'kube-system',
          'rke2-coredns-rke2-coredns',
          {
            'app.kubernetes.io/instance': 'rke2-coredns',
            'app.kubernetes.io/name': 'rke2-coredns',
            'k8s-app': 'kube-dns',
            'kubernetes.io/cluster-service': 'true',
            'kubernetes.io/name': 'CoreDNS',
          },
          {
            clusterIP: `${prefix}.10`,
            selector: { 'app.kubernetes.io/instance': 'rke2-coredns', 'app.kubernetes.io/name': 'rke2-coredns', 'k8s-app': 'kube-dns' },
            ports: [
              { name: 'udp-53', port: 53, protocol: 'UDP', targetPort: 53 },
              { name: 'tcp-53', port: 53, protocol: 'TCP', targetPort: 53 },
            ],
          },
        )
      : service(
          'kube-system',
          'kube-dns',
          { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': distribution === 'gke' ? 'KubeDNS' : 'CoreDNS' },
          { clusterIP: `${prefix}.10`, selector: { 'k8s-app': 'kube-dns' }, ports: dnsPorts },
        );
  return [
    service(
      'default',
      'kubernetes',
      { component: 'apiserver', provider: 'kubernetes' },
      { clusterIP: `${prefix}.1`, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: distribution === 'gke' ? 443 : 6443 }] },
    ),
    dns,
  ];
}

export function namespaceObject(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

/** What the service account and root-CA publisher controllers put into every namespace. */
export function namespaceDefaults(namespace: string, caCertificatePem: string): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-root-ca.crt', namespace, annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION } },
      data: { 'ca.crt': caCertificatePem },
    },
  ];
}

const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

function workloadObject(workload: Workload): KubeObject {
  const podSpec: Record<string, unknown> = {
    serviceAccountName: workload.serviceAccount,
    priorityClassName: workload.priorityClassName,
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: workload.tolerations,
    containers: workload.containers.map((c) => ({
      ...c,
      imagePullPolicy: 'IfNotPresent',
      resources: { requests: { cpu: '100m', memory: '128Mi' } },
      ...(workload.emptyDir ? { volumeMounts: [{ name: workload.emptyDir, mountPath: '/tmp' }] } : {}),
    })),
  };
  if (workload.hostNetwork) podSpec['hostNetwork'] = true;
  if (workload.emptyDir) podSpec['volumes'] = [{ name: workload.emptyDir, emptyDir: {} }];
  const template = { metadata: { labels: { ...workload.app } }, spec: podSpec };
  const spec: Record<string, unknown> =
    workload.kind === 'Deployment'
      ? {
          replicas: workload.replicas ?? 1,
          selector: { matchLabels: workload.app },
          template,
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
        }
      : { selector: { matchLabels: workload.app }, template, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } };
  return { apiVersion: 'apps/v1', kind: workload.kind, metadata: { name: workload.name, namespace: 'kube-system', labels: { ...workload.app } }, spec };
}
