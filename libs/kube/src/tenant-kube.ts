import type { PodDisruptionBudgetState } from '@capstan/domain';
import type { ClusterAccess, ClusterCredentials } from '@capstan/providers';
import { type AddonInstallResult, installAddons, listAddons, removeAddon } from './addons/addons';
import { type Distribution, distributionOf } from './addons/chart-sources';
import type { AddonRequest, InstalledAddon } from './addons/helm-charts';
import { applyBaseline, type BaselineResult } from './baseline/baseline';
import { kubeConfigFor } from './client/kube-config';
import { toKubeError } from './client/kube-errors';
import { tenantClients, type TenantClients } from './client/tenant-clients';
import { issueCustomerCredentials, revokeCustomerCredentials } from './credentials/customer-credentials';
import { readDisruptionBudgets } from './nodes/disruption-budget-states';
import { DEFAULT_BACKOFF, type DrainOptions, drainNode, type EvictionBackoff, type NodeDrainResult, setUnschedulable } from './nodes/node-operations';
import { type RemovedApiScan, scanRemovedApis } from './scan/removed-api-scan';
import { scanWorkloads, type WorkloadScan } from './scan/workload-scan';

export interface TenantKubeOptions {
  /** Bound on each request to the cluster. */
  requestTimeoutMs?: number;
  /** How refused evictions are retried (tests use short ones). */
  evictionBackoff?: EvictionBackoff;
}

/**
 * Capstan's work inside one tenant cluster, the same on RKE2 and GKE: it speaks only the
 * Kubernetes API, through @kubernetes/client-node, with the access a driver's `adminAccess`
 * returns. Every failure is a ProviderError whose `retryable` the engine's steps honour. Methods
 * are idempotent, so a step repeated after a crash finishes the work instead of doubling it.
 */
export class TenantKube {
  private readonly clients: TenantClients;
  private readonly backoff: EvictionBackoff;
  private distribution: Distribution | null = null;

  constructor(
    private readonly access: ClusterAccess,
    options: TenantKubeOptions = {},
  ) {
    this.clients = tenantClients(kubeConfigFor(access), options.requestTimeoutMs ?? 30_000);
    this.backoff = options.evictionBackoff ?? DEFAULT_BACKOFF;
  }

  /** The version the API server reports (`v1.31.4+rke2r1`). */
  async serverVersion(): Promise<string> {
    try {
      return (await this.clients.version.getCode()).gitVersion;
    } catch (error) {
      throw toKubeError(error, 'reading the cluster version');
    }
  }

  cordon(node: string): Promise<void> {
    return setUnschedulable(this.clients, node, true);
  }

  uncordon(node: string): Promise<void> {
    return setUnschedulable(this.clients, node, false);
  }

  /** Cordons and drains through the Eviction API; see drainNode. */
  drain(node: string, options: DrainOptions): Promise<NodeDrainResult> {
    return drainNode(this.clients, node, options, this.backoff);
  }

  /** Objects written through APIs that the hop to `target` (null: any later minor) removes; see scanRemovedApis. */
  scanRemovedApis(target: string | null): Promise<RemovedApiScan> {
    return scanRemovedApis(this.clients, target);
  }

  /** Components recognised in the images of every Deployment and DaemonSet (ingress-nginx); see scanWorkloads. */
  scanWorkloads(pageSize?: number): Promise<WorkloadScan> {
    return scanWorkloads(this.clients, pageSize);
  }

  readDisruptionBudgets(): Promise<PodDisruptionBudgetState[]> {
    return readDisruptionBudgets(this.clients);
  }

  async installAddons(addons: readonly AddonRequest[]): Promise<AddonInstallResult> {
    return installAddons(this.clients, addons, await this.detectDistribution());
  }

  async listAddons(): Promise<InstalledAddon[]> {
    return listAddons(this.clients, await this.detectDistribution());
  }

  /** Deletes the add-on's HelmChart, so helm-controller uninstalls it; see removeAddon. */
  removeAddon(name: string): Promise<{ removed: boolean }> {
    return removeAddon(this.clients, name);
  }

  ensureBaseline(): Promise<BaselineResult> {
    return applyBaseline(this.clients);
  }

  /** A customer kubeconfig's credentials, valid for `ttlSeconds` (at least 600). */
  issueCustomerCredentials(ttlSeconds: number): Promise<ClusterCredentials> {
    return issueCustomerCredentials(this.clients, this.access, ttlSeconds);
  }

  /** Ends every customer credential issued so far. */
  revokeCustomerCredentials(): Promise<void> {
    return revokeCustomerCredentials(this.clients);
  }

  private async detectDistribution(): Promise<Distribution> {
    this.distribution ??= distributionOf(await this.serverVersion());
    return this.distribution;
  }
}
