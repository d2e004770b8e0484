import { type Manifest, MANAGED_BY } from '../client/apply';

/**
 * k3s-io/helm-controller for clusters that do not bundle it (GKE): the HelmChart and
 * HelmChartConfig CRDs and the cluster-scoped deployment of its `manifests/deploy-cluster-scoped.yaml`
 * (a ServiceAccount bound to a ClusterRole on everything, since charts install anything, and one
 * controller replica in kube-system). RKE2 runs the same controller inside its server process.
 * The CRD schemas are open (`x-kubernetes-preserve-unknown-fields`) as helm-controller's own
 * generated ones are for values; Capstan only writes the fields helmChartFor sets.
 */
export const HELM_CONTROLLER_IMAGE = 'rancher/helm-controller:v0.16.10';
const NAMESPACE = 'kube-system';
const NAME = 'helm-controller';

function crd(kind: string, plural: string, status: boolean): Manifest {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.helm.cattle.io`, labels: { ...MANAGED_BY } },
    spec: {
      group: 'helm.cattle.io',
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          ...(status ? { subresources: { status: {} } } : {}),
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                ...(status ? { status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } : {}),
              },
            },
          },
        },
      ],
    },
  };
}

export function helmControllerManifests(): Manifest[] {
  return [
    crd('HelmChart', 'helmcharts', true),
    crd('HelmChartConfig', 'helmchartconfigs', false),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace: NAMESPACE, labels: { ...MANAGED_BY } } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: NAME, labels: { ...MANAGED_BY } },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: NAME, labels: { ...MANAGED_BY } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: NAME, namespace: NAMESPACE, labels: { ...MANAGED_BY, app: NAME } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: NAME } },
        template: {
          metadata: { labels: { app: NAME } },
          spec: {
            serviceAccountName: NAME,
            containers: [{ name: NAME, image: HELM_CONTROLLER_IMAGE, command: ['helm-controller'] }],
          },
        },
      },
    },
  ];
}
