import { DEV_INFRASTRUCTURE_API_VERSION, DEV_INFRASTRUCTURE_CLUSTER_KIND, DEV_INFRASTRUCTURE_MACHINE_TEMPLATE_KIND } from './api-versions';

/** RKE2ControlPlane `registrationMethod` values (the CRD's enum, empty string aside). */
export type RegistrationMethod = 'internal-first' | 'internal-only-ips' | 'external-only-ips' | 'address' | 'control-plane-endpoint';

/**
 * The infrastructure provider that makes the machines (the provider's own hardware): Cluster API
 * leaves its kinds open, so they are configuration. `machineSpec` gives a machine template's
 * `spec.template.spec` for a machine type.
 */
export interface InfrastructureProviderSettings {
  apiVersion: string;
  clusterKind: string;
  machineTemplateKind: string;
  clusterSpec: Record<string, unknown>;
  machineSpec(machineType: string): Record<string, unknown>;
}

export interface Rke2DriverSettings {
  /**
   * Every Capstan cluster's objects live in this one namespace of the management cluster. Not one
   * per organisation: the port names a cluster by its external name alone (`getCluster(name)`),
   * which is globally unique, so one namespace keeps every call a direct read, and the driver's
   * service account needs rights in one namespace only. Labels carry organisation and cluster ids.
   */
  namespace: string;
  /** Servers per cluster: 1, 3 or 5 (etcd wants an odd quorum). */
  controlPlaneReplicas: number;
  controlPlaneMachineType: string;
  /** RKE2 packaging revision appended to the Kubernetes version ("rke2r1" -> v1.35.4+rke2r1). */
  rke2Revision: string;
  registrationMethod: RegistrationMethod;
  infrastructure: InfrastructureProviderSettings;
  /**
   * Where every cluster uploads its etcd snapshots besides the servers' disks (RKE2's
   * `etcd-s3-*`); absent = disks only, which a lost server takes with it.
   */
  etcdS3?: EtcdS3Settings | null;
}

export interface EtcdS3Settings {
  /** Host (and port) without a scheme, RKE2's `etcd-s3-endpoint`. */
  endpoint: string;
  bucket: string;
  folder?: string;
  region?: string;
  /** A Secret in the clusters' namespace with `aws_access_key_id` and `aws_secret_access_key`. */
  credentialsSecret?: string;
}

/**
 * Cluster API's in-memory test provider ("dev" kinds, `backend.inMemory`), which the emulator
 * ships: it has no machine types, so the type travels as a label on the template's machines.
 */
export function devInfrastructure(): InfrastructureProviderSettings {
  return {
    apiVersion: DEV_INFRASTRUCTURE_API_VERSION,
    clusterKind: DEV_INFRASTRUCTURE_CLUSTER_KIND,
    machineTemplateKind: DEV_INFRASTRUCTURE_MACHINE_TEMPLATE_KIND,
    clusterSpec: { backend: { inMemory: {} } },
    machineSpec: () => ({ backend: { inMemory: {} } }),
  };
}

/**
 * An infrastructure provider named by configuration. Its cluster kind follows Cluster API's naming
 * convention (`Metal3MachineTemplate` -> `Metal3Cluster`) unless given; `machineSpecJson` is the
 * template's `spec.template.spec` as JSON in which every `{{machineType}}` is replaced.
 */
export function configuredInfrastructure(options: {
  apiVersion: string;
  machineTemplateKind: string;
  clusterKind?: string;
  clusterSpecJson?: string;
  machineSpecJson?: string;
}): InfrastructureProviderSettings {
  const dev = devInfrastructure();
  const isDev = options.apiVersion === dev.apiVersion && options.machineTemplateKind === dev.machineTemplateKind;
  const clusterKind = options.clusterKind ?? options.machineTemplateKind.replace(/MachineTemplate$/, 'Cluster');
  if (clusterKind === options.machineTemplateKind)
    throw new Error(`cannot tell the infrastructure cluster kind of ${options.machineTemplateKind}; set RKE2_INFRASTRUCTURE_CLUSTER_KIND`);
  const clusterSpec = options.clusterSpecJson ? parseObject(options.clusterSpecJson, 'cluster spec') : isDev ? dev.clusterSpec : {};
  const machineSpecJson = options.machineSpecJson;
  if (machineSpecJson) parseObject(machineSpecJson.replaceAll('{{machineType}}', 'x'), 'machine spec');
  return {
    apiVersion: options.apiVersion,
    clusterKind,
    machineTemplateKind: options.machineTemplateKind,
    clusterSpec,
    machineSpec: (machineType) =>
      machineSpecJson
        ? parseObject(machineSpecJson.replaceAll('{{machineType}}', JSON.stringify(machineType).slice(1, -1)), 'machine spec')
        : isDev
          ? dev.machineSpec(machineType)
          : {},
  };
}

export const DEFAULT_RKE2_SETTINGS: Omit<Rke2DriverSettings, 'infrastructure'> = {
  namespace: 'capstan-clusters',
  controlPlaneReplicas: 3,
  controlPlaneMachineType: 'control-plane',
  rke2Revision: 'rke2r1',
  registrationMethod: 'control-plane-endpoint',
};

function parseObject(json: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`the infrastructure ${what} is not JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`the infrastructure ${what} must be a JSON object`);
  return parsed as Record<string, unknown>;
}
