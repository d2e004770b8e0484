import type { ClusterSettingDrift } from '@capstan/domain';
import { KubeConfig } from '@kubernetes/client-node';
import { type ExternalClusterSpec, type ExternalNodePoolSpec, type ProviderCluster, ProviderError, type ProviderNodePool } from '../cluster-provider';
import { type ClusterAccess, InfrastructureDriver, type ProviderOperation, type ProviderOperationStatus } from '../infrastructure-driver';
import {
  BOOTSTRAP_API_VERSION,
  CAPI_CLUSTER_NAME_LABEL,
  CAPI_CONTROL_PLANE_LABEL,
  CAPI_DEPLOYMENT_NAME_LABEL,
  CLUSTER_API_VERSION,
  CLUSTER_LABEL,
  CONTROL_PLANE_API_VERSION,
  MANAGED_BY_LABEL,
  ORGANIZATION_LABEL,
} from './api-versions';
import { buildClusterObjects } from './cluster-objects';
import { accessFromKubeconfigSecret, readKubeconfigSecret } from './kubeconfig-secret';
import { keyOf, ManagementCluster, type ObjectKey } from './management-cluster';
import type { Manifest } from './manifest';
import { clusterIdOf, clusterObjectNames, kubernetesVersionOf, nodePoolObjectNames, rke2Version } from './naming';
import { buildNodePoolObjects, nodePoolPatch } from './pool-objects';
import type { Rke2DriverSettings } from './rke2-settings';
import { presentCluster, presentNodePool, rolloutStatus } from './status';

export interface Rke2DriverOptions {
  /** The management cluster's kubeconfig (YAML), or one already loaded. */
  kubeconfig: string | KubeConfig;
  settings: Rke2DriverSettings;
  /** Per request to the management cluster; longer fails as retryable. */
  timeoutMs?: number;
}

/** `ProviderOperation.kind` of a Cluster API rollout; its `name` is `<Kind>/<object name>`. */
export const CAPI_ROLLOUT = 'capi-rollout';
const CONTROL_PLANE_KIND = 'RKE2ControlPlane';
const MACHINE_DEPLOYMENT_KIND = 'MachineDeployment';

/**
 * The RKE2 driver: Capstan's clusters as Cluster API + CAPRKE2 objects on a management cluster
 * reached by kubeconfig. It only writes desired state; the controllers on the management cluster
 * (Cluster API, CAPRKE2, the infrastructure provider) build machines, and the driver reads their
 * progress back from status fields. Object shapes come from the pure builders
 * (cluster-objects.ts, pool-objects.ts) and status rules from status.ts; docs/rke2-driver.md
 * describes the objects, their names and labels.
 */
export class Rke2Driver extends InfrastructureDriver {
  readonly provider = 'rke2' as const;
  readonly systemNodePool = null;
  private readonly management: ManagementCluster;
  private readonly settings: Rke2DriverSettings;

  constructor(options: Rke2DriverOptions) {
    super();
    const config = typeof options.kubeconfig === 'string' ? loadKubeconfig(options.kubeconfig) : options.kubeconfig;
    this.settings = options.settings;
    this.management = new ManagementCluster(config, options.settings.namespace, options.timeoutMs ?? 30_000);
  }

  async ensureCluster(spec: ExternalClusterSpec): Promise<ProviderCluster> {
    if (spec.flavour !== 'rke2') throw new ProviderError(`the RKE2 driver builds RKE2 clusters, not ${spec.flavour}`, false, 'wrong_provider');
    const objects = buildClusterObjects(spec, this.settings);
    const written: Manifest[] = [];
    // Referenced objects first: Cluster API's controllers find what each reference names.
    for (const object of [objects.infrastructureCluster, objects.controlPlaneMachineTemplate, objects.controlPlane, objects.cluster]) {
      written.push(await this.createOwned(object, spec.name, `creating ${describe(object)} of cluster ${spec.name}`));
    }
    return presentCluster(spec.name, { cluster: written[3]!, controlPlane: written[2]!, access: null })!;
  }

  async getCluster(name: string): Promise<ProviderCluster | null> {
    const names = clusterObjectNames(name);
    const doing = `reading cluster ${name}`;
    const cluster = await this.management.get({ apiVersion: CLUSTER_API_VERSION, kind: 'Cluster', name: names.cluster }, doing);
    if (!cluster) return null;
    const [controlPlane, secret] = await Promise.all([
      this.management.get(this.controlPlaneKey(name), doing),
      this.management.get({ apiVersion: 'v1', kind: 'Secret', name: names.kubeconfigSecret }, doing),
    ]);
    return presentCluster(name, { cluster, controlPlane, access: readKubeconfigSecret(name, secret as { data?: Record<string, string> } | null) });
  }

  /**
   * Deleting the Cluster makes Cluster API take down its control plane, machine deployments,
   * machines and infrastructure in order; the pools' MachineDeployments and the templates Capstan
   * wrote are deleted alongside, so nothing of the cluster stays once the Cluster is gone.
   */
  async deleteCluster(name: string): Promise<void> {
    const names = clusterObjectNames(name);
    const doing = `deleting cluster ${name}`;
    await this.management.delete({ apiVersion: CLUSTER_API_VERSION, kind: 'Cluster', name: names.cluster }, doing);
    const selector = `${CAPI_CLUSTER_NAME_LABEL}=${name},${CLUSTER_LABEL}=${clusterIdOf(name)}`;
    const infrastructure = this.settings.infrastructure;
    for (const [apiVersion, kind] of [
      [CLUSTER_API_VERSION, MACHINE_DEPLOYMENT_KIND],
      [BOOTSTRAP_API_VERSION, 'RKE2ConfigTemplate'],
      [infrastructure.apiVersion, infrastructure.machineTemplateKind],
    ] as const) {
      for (const object of await this.management.list(apiVersion, kind, selector, doing)) await this.management.delete(keyOf(object), doing);
    }
  }

  /**
   * Nothing to apply: Capstan drives RKE2 upgrades itself (its window, channel and exclusions stay
   * in Capstan), and the cluster's labels are Capstan's alone (its objects carry owner labels only).
   */
  async applyClusterSettings(): Promise<ProviderOperation | null> {
    return null;
  }

  /** Nothing can drift: the provider holds none of the settings (see applyClusterSettings). */
  async clusterSettingsDrift(): Promise<ClusterSettingDrift[]> {
    return [];
  }

  async ensureNodePool(cluster: string, spec: ExternalNodePoolSpec): Promise<ProviderNodePool> {
    const owner = await this.liveCluster(cluster, `creating node pool ${spec.name}`);
    const objects = buildNodePoolObjects(cluster, spec, this.settings, ownerLabels(owner));
    const doing = `creating node pool ${spec.name} of cluster ${cluster}`;
    await this.createOwned(objects.bootstrapTemplate, cluster, doing);
    await this.createOwned(objects.infrastructureTemplate, cluster, doing);
    let machineDeployment = await this.createOwned(objects.machineDeployment, cluster, doing);
    // Found from an earlier attempt: bring it to this spec, as updateNodePool would.
    const patch = nodePoolPatch(machineDeployment, cluster, spec);
    if (patch) machineDeployment = await this.management.mergePatch(keyOf(machineDeployment), patch, doing);
    return presentNodePool(spec.name, machineDeployment, await this.poolMachines(machineDeployment.metadata.name, doing))!;
  }

  async getNodePool(cluster: string, pool: string): Promise<ProviderNodePool | null> {
    const doing = `reading node pool ${pool} of cluster ${cluster}`;
    const key = this.machineDeploymentKey(cluster, pool);
    const machineDeployment = await this.management.get(key, doing);
    if (!machineDeployment) return null;
    return presentNodePool(pool, machineDeployment, await this.poolMachines(key.name, doing));
  }

  async updateNodePool(cluster: string, spec: ExternalNodePoolSpec): Promise<ProviderNodePool> {
    const doing = `changing node pool ${spec.name} of cluster ${cluster}`;
    const key = this.machineDeploymentKey(cluster, spec.name);
    let machineDeployment = await this.management.get(key, doing);
    if (!machineDeployment) throw new ProviderError(`node pool ${spec.name} of cluster ${cluster} does not exist`, false, 'node_pool_missing');
    const patch = nodePoolPatch(machineDeployment, cluster, spec);
    if (patch) machineDeployment = await this.management.mergePatch(key, patch, doing);
    return presentNodePool(spec.name, machineDeployment, await this.poolMachines(key.name, doing))!;
  }

  async deleteNodePool(cluster: string, pool: string): Promise<void> {
    const doing = `deleting node pool ${pool} of cluster ${cluster}`;
    const names = nodePoolObjectNames(cluster, pool);
    await this.management.delete({ apiVersion: CLUSTER_API_VERSION, kind: MACHINE_DEPLOYMENT_KIND, name: names.machineDeployment }, doing);
    await this.management.delete({ apiVersion: BOOTSTRAP_API_VERSION, kind: 'RKE2ConfigTemplate', name: names.bootstrapTemplate }, doing);
    const infrastructure = this.settings.infrastructure;
    await this.management.delete(
      { apiVersion: infrastructure.apiVersion, kind: infrastructure.machineTemplateKind, name: names.infrastructureTemplate },
      doing,
    );
  }

  async adminAccess(cluster: string): Promise<ClusterAccess> {
    const doing = `reading the admin kubeconfig of cluster ${cluster}`;
    const secret = await this.management.get({ apiVersion: 'v1', kind: 'Secret', name: clusterObjectNames(cluster).kubeconfigSecret }, doing);
    const access = accessFromKubeconfigSecret(cluster, secret as { data?: Record<string, string> } | null);
    if (access) return access;
    await this.liveCluster(cluster, doing);
    throw new ProviderError(`cluster ${cluster} has no admin kubeconfig yet: its control plane is still starting`, true, 'kubeconfig_pending');
  }

  async upgradeControlPlane(cluster: string, version: string): Promise<ProviderOperation> {
    const doing = `upgrading the control plane of cluster ${cluster} to ${version}`;
    const key = this.controlPlaneKey(cluster);
    const controlPlane = await this.management.get(key, doing);
    if (!controlPlane) throw new ProviderError(`cluster ${cluster} does not exist`, false, 'cluster_missing');
    const current = kubernetesVersionOf((controlPlane.status as { version?: string } | undefined)?.version) ?? kubernetesVersionOf(specVersion(controlPlane));
    assertOneMinorUp(current, version, `the control plane of cluster ${cluster}`);
    const wanted = rke2Version(version, this.settings.rke2Revision);
    // A drain timeout left by an older release goes with the change: Cluster API would delete a
    // machine whose pods a budget protects once it passed (docs/upgrades.md, "Drains").
    const timeout = (controlPlane.spec as { machineTemplate?: { nodeDrainTimeout?: string } } | undefined)?.machineTemplate?.nodeDrainTimeout;
    if (specVersion(controlPlane) !== wanted || timeout !== undefined)
      await this.management.mergePatch(
        key,
        { spec: { version: wanted, ...(timeout !== undefined ? { machineTemplate: { nodeDrainTimeout: null } } : {}) } },
        doing,
      );
    return { provider: 'rke2', kind: CAPI_ROLLOUT, name: `${CONTROL_PLANE_KIND}/${key.name}`, target: cluster, version };
  }

  async upgradeNodePool(cluster: string, pool: string, version: string): Promise<ProviderOperation> {
    const doing = `upgrading node pool ${pool} of cluster ${cluster} to ${version}`;
    const key = this.machineDeploymentKey(cluster, pool);
    const [machineDeployment, controlPlane] = await Promise.all([this.management.get(key, doing), this.management.get(this.controlPlaneKey(cluster), doing)]);
    if (!machineDeployment || !controlPlane) throw new ProviderError(`node pool ${pool} of cluster ${cluster} does not exist`, false, 'node_pool_missing');
    const controlPlaneVersion = kubernetesVersionOf((controlPlane.status as { version?: string } | undefined)?.version);
    if (!controlPlaneVersion || compareVersions(version, controlPlaneVersion) > 0)
      throw new ProviderError(
        `node pool ${pool} cannot move to ${version} before the control plane runs it (it runs ${controlPlaneVersion ?? 'no version yet'})`,
        false,
        'version_skew',
      );
    const template = (machineDeployment.spec as { template?: { spec?: { version?: string; nodeDrainTimeout?: string } } } | undefined)?.template?.spec;
    assertOneMinorUp(kubernetesVersionOf(template?.version), version, `node pool ${pool}`);
    return this.rollPool(key, cluster, pool, template, version, doing);
  }

  /**
   * Rolls a pool back to `version` after a failed or stopped upgrade (docs/upgrades.md, "Rolling a
   * pool back"): one minor down at most, never below what the control plane allows (three minors).
   * Cluster API replaces the machines again, by the same surge settings and drains.
   */
  async rollbackNodePool(cluster: string, pool: string, version: string): Promise<ProviderOperation> {
    const doing = `rolling node pool ${pool} of cluster ${cluster} back to ${version}`;
    const key = this.machineDeploymentKey(cluster, pool);
    const [machineDeployment, controlPlane] = await Promise.all([this.management.get(key, doing), this.management.get(this.controlPlaneKey(cluster), doing)]);
    if (!machineDeployment || !controlPlane) throw new ProviderError(`node pool ${pool} of cluster ${cluster} does not exist`, false, 'node_pool_missing');
    const template = (machineDeployment.spec as { template?: { spec?: { version?: string; nodeDrainTimeout?: string } } } | undefined)?.template?.spec;
    const current = kubernetesVersionOf(template?.version);
    const controlPlaneVersion = kubernetesVersionOf((controlPlane.status as { version?: string } | undefined)?.version);
    if (current && compareVersions(version, current) > 0)
      throw new ProviderError(`node pool ${pool} runs ${current}; ${version} is not a rollback`, false, 'not_a_rollback');
    if (current && minorOf(current) - minorOf(version) > 1)
      throw new ProviderError(`node pool ${pool} runs ${current}; a rollback goes back one minor at most, not to ${version}`, false, 'version_skip');
    if (controlPlaneVersion && minorOf(controlPlaneVersion) - minorOf(version) > 3)
      throw new ProviderError(`the control plane runs ${controlPlaneVersion}; nodes at ${version} would be outside the version skew`, false, 'version_skew');
    return this.rollPool(key, cluster, pool, template, version, doing);
  }

  private async rollPool(
    key: ObjectKey,
    cluster: string,
    pool: string,
    template: { version?: string; nodeDrainTimeout?: string } | undefined,
    version: string,
    doing: string,
  ): Promise<ProviderOperation> {
    const wanted = rke2Version(version, this.settings.rke2Revision);
    // A drain timeout left by an older release goes with the change (see upgradeControlPlane).
    if (template?.version !== wanted || template?.nodeDrainTimeout !== undefined)
      await this.management.mergePatch(
        key,
        { spec: { template: { spec: { version: wanted, ...(template?.nodeDrainTimeout !== undefined ? { nodeDrainTimeout: null } : {}) } } } },
        doing,
      );
    return { provider: 'rke2', kind: CAPI_ROLLOUT, name: `${MACHINE_DEPLOYMENT_KIND}/${key.name}`, target: `${cluster}/${pool}`, version };
  }

  async getOperation(operation: ProviderOperation): Promise<ProviderOperationStatus> {
    const [kind, name] = operation.name.split('/');
    if (operation.provider !== 'rke2' || operation.kind !== CAPI_ROLLOUT || !name || !operation.version)
      throw new ProviderError(`operation ${operation.kind} ${operation.name} is not an RKE2 rollout`, false, 'unknown_operation');
    const doing = `following the upgrade of ${operation.target} to ${operation.version}`;
    if (kind === CONTROL_PLANE_KIND) {
      const [object, machines] = await Promise.all([
        this.management.get({ apiVersion: CONTROL_PLANE_API_VERSION, kind, name }, doing),
        this.management.list(CLUSTER_API_VERSION, 'Machine', `${CAPI_CLUSTER_NAME_LABEL}=${operation.target},${CAPI_CONTROL_PLANE_LABEL}`, doing),
      ]);
      return rolloutStatus('control-plane', object, machines, operation.version);
    }
    if (kind === MACHINE_DEPLOYMENT_KIND) {
      const [object, machines] = await Promise.all([
        this.management.get({ apiVersion: CLUSTER_API_VERSION, kind, name }, doing),
        this.poolMachines(name, doing),
      ]);
      return rolloutStatus('node-pool', object, machines, operation.version);
    }
    throw new ProviderError(`operation ${operation.name} follows an object the RKE2 driver does not roll out`, false, 'unknown_operation');
  }

  /** Creates `object`, or finds it from an earlier attempt; refuses a same-named object Capstan did not make for this cluster. */
  private async createOwned(object: Manifest, cluster: string, doing: string): Promise<Manifest> {
    const { object: found, created } = await this.management.create(object, doing);
    if (created) return found;
    if (found.metadata.labels?.[CLUSTER_LABEL] !== clusterIdOf(cluster))
      throw new ProviderError(`${describe(object)} is taken on the management cluster by an object Capstan did not create`, false, 'name_taken');
    if (found.metadata.deletionTimestamp) throw new ProviderError(`${describe(object)} is still being deleted; Capstan retries`, true, 'still_deleting');
    return found;
  }

  private async liveCluster(cluster: string, doing: string): Promise<Manifest> {
    const found = await this.management.get({ apiVersion: CLUSTER_API_VERSION, kind: 'Cluster', name: clusterObjectNames(cluster).cluster }, doing);
    if (!found) throw new ProviderError(`cluster ${cluster} does not exist`, false, 'cluster_missing');
    if (found.metadata.deletionTimestamp) throw new ProviderError(`cluster ${cluster} is being deleted`, false, 'cluster_deleting');
    return found;
  }

  private poolMachines(machineDeployment: string, doing: string): Promise<Manifest[]> {
    return this.management.list(CLUSTER_API_VERSION, 'Machine', `${CAPI_DEPLOYMENT_NAME_LABEL}=${machineDeployment}`, doing);
  }

  private controlPlaneKey(cluster: string): ObjectKey {
    return { apiVersion: CONTROL_PLANE_API_VERSION, kind: CONTROL_PLANE_KIND, name: clusterObjectNames(cluster).controlPlane };
  }

  private machineDeploymentKey(cluster: string, pool: string): ObjectKey {
    return { apiVersion: CLUSTER_API_VERSION, kind: MACHINE_DEPLOYMENT_KIND, name: nodePoolObjectNames(cluster, pool).machineDeployment };
  }
}

function loadKubeconfig(yaml: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(yaml);
  return config;
}

/** The owner labels a cluster's objects carry, copied onto its pools' objects. */
function ownerLabels(cluster: Manifest): Record<string, string> {
  const labels = cluster.metadata.labels ?? {};
  const keep = [MANAGED_BY_LABEL, ORGANIZATION_LABEL, CLUSTER_LABEL, CAPI_CLUSTER_NAME_LABEL];
  return Object.fromEntries(keep.filter((key) => labels[key] !== undefined).map((key) => [key, labels[key]!]));
}

function describe(object: Manifest): string {
  return `${object.kind} ${object.metadata.name}`;
}

function specVersion(object: Manifest): string | undefined {
  return (object.spec as { version?: string } | undefined)?.version;
}

function minorOf(version: string): number {
  return Number(version.split('.')[1]);
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/**
 * The caller plans the hops (docs: no version skips); the driver still refuses a downgrade or a
 * skipped minor, which Cluster API would otherwise start and RKE2 could not finish.
 */
function assertOneMinorUp(current: string | null, target: string, what: string): void {
  if (!current) return;
  if (compareVersions(target, current) < 0) throw new ProviderError(`${what} runs ${current}; moving down to ${target} is not supported`, false, 'downgrade');
  const [currentMajor, currentMinor] = current.split('.').map(Number);
  const [targetMajor, targetMinor] = target.split('.').map(Number);
  if (targetMajor !== currentMajor || targetMinor! > currentMinor! + 1)
    throw new ProviderError(`${what} runs ${current}; ${target} would skip a minor version`, false, 'version_skip');
}
