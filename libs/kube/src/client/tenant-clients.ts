import {
  ApisApi,
  AppsV1Api,
  CoreApi,
  CoreV1Api,
  createConfiguration,
  type KubeConfig,
  KubernetesObjectApi,
  PolicyV1Api,
  ServerConfiguration,
  VersionApi,
} from '@kubernetes/client-node';

/** The client-node APIs one TenantKube uses, all on one configuration. */
export interface TenantClients {
  core: CoreV1Api;
  apps: AppsV1Api;
  policy: PolicyV1Api;
  /** Any kind by apiVersion + kind (CRDs included); finds resource paths by discovery. */
  objects: KubernetesObjectApi;
  /** `/api` and `/apis`: which group versions the cluster serves. */
  coreGroup: CoreApi;
  groups: ApisApi;
  version: VersionApi;
}

/**
 * Every request bounded by `timeoutMs`: a tenant API server that never answers must not hold a
 * worker; the abort surfaces as a retryable error (see toKubeError).
 */
export function tenantClients(config: KubeConfig, timeoutMs: number): TenantClients {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: config },
    promiseMiddleware: [{ pre: async (context) => (context.setSignal(AbortSignal.timeout(timeoutMs)), context), post: async (response) => response }],
  });
  return {
    core: new CoreV1Api(configuration),
    apps: new AppsV1Api(configuration),
    policy: new PolicyV1Api(configuration),
    objects: new KubernetesObjectApi(configuration),
    coreGroup: new CoreApi(configuration),
    groups: new ApisApi(configuration),
    version: new VersionApi(configuration),
  };
}
