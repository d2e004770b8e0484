import { type Manifest, MANAGED_BY } from '../client/apply';

/**
 * What Capstan puts into every tenant cluster besides add-ons, identical on RKE2 and GKE:
 *
 * - namespace `capstan-system` (Pod Security `restricted` enforced: nothing privileged runs there);
 * - ServiceAccount `capstan-operator` with ClusterRole `capstan-operator`: what Capstan's own
 *   in-cluster work needs (cordon/drain, the removed-API scan reads every kind, add-ons are
 *   HelmCharts and, where helm-controller is missing, its CRDs and Deployment, the baseline itself,
 *   and TokenRequests for customer credentials) — never cluster-admin;
 * - ServiceAccount `customer-admin` bound to the built-in `cluster-admin` ClusterRole: the identity
 *   behind customer kubeconfig downloads (the customer owns the cluster's workloads);
 * - NetworkPolicies in `capstan-system`: `default-deny-ingress` (no pod there takes traffic
 *   unless a policy says so) and `allow-same-namespace`;
 * - in every customer namespace (customerNamespacePolicies; docs/addons.md, "Security baseline"):
 *   `capstan-default-deny` (no ingress, no egress), `capstan-allow-dns` (egress to the cluster's DNS,
 *   `k8s-app: kube-dns` in kube-system, UDP and TCP 53) and `capstan-allow-same-namespace`. The
 *   customer opens more with policies of their own; a namespace labelled
 *   `capstan.io/network-baseline: "off"` is left alone.
 */
export const CAPSTAN_NAMESPACE = 'capstan-system';
export const OPERATOR_ACCOUNT = 'capstan-operator';
export const CUSTOMER_ACCOUNT = 'customer-admin';
export const OPERATOR_ROLE = 'capstan-operator';
export const CUSTOMER_BINDING = 'capstan-customer-admin';

const RBAC = 'rbac.authorization.k8s.io/v1';

export function namespaceManifest(): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: CAPSTAN_NAMESPACE,
      labels: { ...MANAGED_BY, 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' },
    },
  };
}

export function serviceAccountManifest(name: string): Manifest {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: CAPSTAN_NAMESPACE, labels: { ...MANAGED_BY } } };
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

export function operatorRoleManifest(): Manifest {
  return {
    apiVersion: RBAC,
    kind: 'ClusterRole',
    metadata: { name: OPERATOR_ROLE, labels: { ...MANAGED_BY } },
    rules: [
      // The removed-API scan lists every kind a removal may concern, CRDs included.
      { apiGroups: ['*'], resources: ['*'], verbs: READ },
      { nonResourceURLs: ['/version', '/api', '/api/*', '/apis', '/apis/*', '/readyz', '/livez'], verbs: ['get'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['patch', 'update'] },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
      { apiGroups: [''], resources: ['namespaces', 'serviceaccounts'], verbs: WRITE },
      { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
      { apiGroups: ['helm.cattle.io'], resources: ['helmcharts', 'helmchartconfigs'], verbs: WRITE },
      { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: WRITE },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: WRITE },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: WRITE },
      // Binding cluster-admin to the customer account needs the right to bind it (RBAC escalation check).
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings'], verbs: WRITE },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind', 'escalate'] },
    ],
  };
}

function clusterRoleBinding(name: string, role: string, account: string): Manifest {
  return {
    apiVersion: RBAC,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...MANAGED_BY } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ kind: 'ServiceAccount', name: account, namespace: CAPSTAN_NAMESPACE }],
  };
}

function networkPolicy(name: string, ingress: unknown[]): Manifest {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: CAPSTAN_NAMESPACE, labels: { ...MANAGED_BY } },
    spec: { podSelector: {}, policyTypes: ['Ingress'], ingress },
  };
}

/** What a customer token needs to work: its namespace, account and the binding to cluster-admin. */
export function customerAccessManifests(): Manifest[] {
  return [namespaceManifest(), serviceAccountManifest(CUSTOMER_ACCOUNT), clusterRoleBinding(CUSTOMER_BINDING, 'cluster-admin', CUSTOMER_ACCOUNT)];
}

/** In apply order: the namespace before what lives in it, roles before their bindings. */
export function baselineManifests(): Manifest[] {
  return [
    namespaceManifest(),
    serviceAccountManifest(OPERATOR_ACCOUNT),
    serviceAccountManifest(CUSTOMER_ACCOUNT),
    operatorRoleManifest(),
    clusterRoleBinding(OPERATOR_ROLE, OPERATOR_ROLE, OPERATOR_ACCOUNT),
    clusterRoleBinding(CUSTOMER_BINDING, 'cluster-admin', CUSTOMER_ACCOUNT),
    networkPolicy('default-deny-ingress', []),
    networkPolicy('allow-same-namespace', [{ from: [{ podSelector: {} }] }]),
  ];
}

/** Namespaces that are not the customer's: the system's, Capstan's and its add-ons' (their charts bring their own policies). */
export const NETWORK_BASELINE_OPT_OUT = 'capstan.io/network-baseline';
const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease', CAPSTAN_NAMESPACE];

export function isCustomerNamespace(name: string, labels: Record<string, string>, addonNamespaces: readonly string[]): boolean {
  if (SYSTEM_NAMESPACES.includes(name) || addonNamespaces.includes(name) || name.startsWith('gke-') || name.startsWith('gmp-')) return false;
  return labels[NETWORK_BASELINE_OPT_OUT] !== 'off';
}

/**
 * Default deny with DNS allowed, for one customer namespace. Pods may still talk to each other
 * within the namespace; everything else (ingress from other namespaces, egress beyond DNS) needs
 * the customer's own policy (kubernetes.io/docs/concepts/services-networking/network-policies,
 * "Default policies").
 */
export function customerNamespacePolicies(namespace: string): Manifest[] {
  const policy = (name: string, spec: Record<string, unknown>): Manifest => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, labels: { ...MANAGED_BY } },
    spec: { podSelector: {}, ...spec },
  });
  return [
    policy('capstan-default-deny', { policyTypes: ['Ingress', 'Egress'] }),
    policy('capstan-allow-dns', {
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    }),
    policy('capstan-allow-same-namespace', {
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
    }),
  ];
}
