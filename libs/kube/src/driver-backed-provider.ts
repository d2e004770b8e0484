import {
  type Addon,
  type ClusterCredentials,
  ClusterProvider,
  type DrainResult,
  type ExternalClusterSpec,
  type ExternalNodePoolSpec,
  type InfrastructureDriver,
  type ProviderCluster,
  type ProviderKind,
  type ProviderNodePool,
} from '@capstan/providers';
import type { TenantKube } from './tenant-kube';

/**
 * The engine's ClusterProvider port made of the two halves the port was split into: an
 * InfrastructureDriver for what differs between RKE2 (Cluster API) and GKE (Container API), and
 * TenantKube for the work inside the cluster, which is the same Kubernetes API on both.
 *
 * It lets the cluster steps run unchanged on the real drivers while they are moved onto the two
 * halves directly (the provider-side upgrade handles in particular need the steps to checkpoint
 * a ProviderOperation, which this port's `upgradeControlPlane` cannot return).
 */
export class DriverBackedProvider extends ClusterProvider {
  readonly kind: ProviderKind;

  constructor(
    private readonly driver: InfrastructureDriver,
    private readonly kubeFor: (cluster: string) => Promise<TenantKube>,
  ) {
    super();
    this.kind = driver.provider;
  }

  ensureCluster(spec: ExternalClusterSpec): Promise<ProviderCluster> {
    return this.driver.ensureCluster(spec);
  }

  getCluster(name: string): Promise<ProviderCluster | null> {
    return this.driver.getCluster(name);
  }

  deleteCluster(name: string): Promise<void> {
    return this.driver.deleteCluster(name);
  }

  ensureNodePool(cluster: string, spec: ExternalNodePoolSpec): Promise<ProviderNodePool> {
    return this.driver.ensureNodePool(cluster, spec);
  }

  getNodePool(cluster: string, pool: string): Promise<ProviderNodePool | null> {
    return this.driver.getNodePool(cluster, pool);
  }

  updateNodePool(cluster: string, spec: ExternalNodePoolSpec): Promise<ProviderNodePool> {
    return this.driver.updateNodePool(cluster, spec);
  }

  deleteNodePool(cluster: string, pool: string): Promise<void> {
    return this.driver.deleteNodePool(cluster, pool);
  }

  /** A ServiceAccount token through TokenRequest: the cluster's API server decides its validity, not Capstan. */
  async issueCredentials(cluster: string, ttlSeconds: number): Promise<ClusterCredentials> {
    return (await this.kubeFor(cluster)).issueCustomerCredentials(ttlSeconds);
  }

  async revokeCredentials(cluster: string): Promise<void> {
    await (await this.kubeFor(cluster)).revokeCustomerCredentials();
  }

  async upgradeControlPlane(cluster: string, version: string): Promise<void> {
    await this.driver.upgradeControlPlane(cluster, version);
  }

  async cordonNode(cluster: string, node: string): Promise<void> {
    await (await this.kubeFor(cluster)).cordon(node);
  }

  async drainNode(cluster: string, node: string, options: { timeoutSeconds: number; force: boolean }): Promise<DrainResult> {
    const result = await (await this.kubeFor(cluster)).drain(node, options);
    return { drained: result.drained, blockedBy: result.blockedBy };
  }

  async uncordonNode(cluster: string, node: string): Promise<void> {
    await (await this.kubeFor(cluster)).uncordon(node);
  }

  /** The baseline (Capstan's namespace, RBAC, policies) goes in with the managed add-ons, both idempotent. */
  async installAddons(cluster: string, addons: Addon[]): Promise<void> {
    const kube = await this.kubeFor(cluster);
    await kube.ensureBaseline();
    await kube.installAddons(addons);
  }

  async listAddons(cluster: string): Promise<Addon[]> {
    return (await (await this.kubeFor(cluster)).listAddons()).map((addon) => ({ name: addon.name, version: addon.version }));
  }
}
