import type { ExternalClusterSpec } from '../cluster-provider';
import {
  CAPI_CLUSTER_NAME_LABEL,
  CLUSTER_API_VERSION,
  CLUSTER_LABEL,
  CONTROL_PLANE_API_VERSION,
  MACHINE_TYPE_ANNOTATION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  ORGANIZATION_LABEL,
} from './api-versions';
import { type Manifest, referenceTo } from './manifest';
import { clusterIdOf, clusterObjectNames, rke2Version } from './naming';
import type { Rke2DriverSettings } from './rke2-settings';

/** The objects of one cluster, in the order they are created (referenced objects first). */
export interface ClusterObjects {
  infrastructureCluster: Manifest;
  controlPlaneMachineTemplate: Manifest;
  controlPlane: Manifest;
  cluster: Manifest;
}

/**
 * RKE2's own defaults for the cluster networks (rke2 server `--cluster-cidr`, `--service-cidr`),
 * stated so the Cluster object tells the truth about them.
 */
const POD_CIDR = '10.42.0.0/16';
const SERVICE_CIDR = '10.43.0.0/16';

/**
 * RKE2 etcd snapshots as docs/ (and RKE2) default them: every 12 hours, 5 kept. Backups through
 * Capstan take their own on-demand snapshots on top.
 */
const ETCD_SNAPSHOT_SCHEDULE = '0 */12 * * *';
const ETCD_SNAPSHOT_RETENTION = '5';

/** How long Cluster API waits for a node's pods to leave before it replaces the machine anyway. */
export const NODE_DRAIN_TIMEOUT = '10m';

/** Labels every object of a cluster carries: who owns it in Capstan, and Cluster API's own. */
export function clusterLabels(cluster: string, organizationId: string | undefined): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    ...(organizationId ? { [ORGANIZATION_LABEL]: organizationId } : {}),
    [CLUSTER_LABEL]: clusterIdOf(cluster),
    [CAPI_CLUSTER_NAME_LABEL]: cluster,
  };
}

/**
 * A Cluster with its RKE2ControlPlane and the infrastructure provider's cluster object: what
 * `ensureCluster` writes. Pure: the same spec and settings always give the same objects.
 */
export function buildClusterObjects(spec: ExternalClusterSpec, settings: Rke2DriverSettings): ClusterObjects {
  const names = clusterObjectNames(spec.name);
  const namespace = settings.namespace;
  const labels = clusterLabels(spec.name, spec.organizationId);
  const infrastructure = settings.infrastructure;

  const infrastructureCluster: Manifest = {
    apiVersion: infrastructure.apiVersion,
    kind: infrastructure.clusterKind,
    metadata: { name: names.infrastructureCluster, namespace, labels },
    spec: structuredClone(infrastructure.clusterSpec),
  };
  const controlPlaneMachineTemplate: Manifest = {
    apiVersion: infrastructure.apiVersion,
    kind: infrastructure.machineTemplateKind,
    metadata: {
      name: names.controlPlaneMachineTemplate,
      namespace,
      labels,
      annotations: { [MACHINE_TYPE_ANNOTATION]: settings.controlPlaneMachineType },
    },
    spec: { template: { spec: infrastructure.machineSpec(settings.controlPlaneMachineType) } },
  };
  const controlPlane: Manifest = {
    apiVersion: CONTROL_PLANE_API_VERSION,
    kind: 'RKE2ControlPlane',
    metadata: { name: names.controlPlane, namespace, labels },
    spec: {
      replicas: settings.controlPlaneReplicas,
      version: rke2Version(spec.version, settings.rke2Revision),
      // One server at a time, a new one first: etcd keeps its quorum through the rollout.
      rolloutStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
      registrationMethod: settings.registrationMethod,
      machineTemplate: { infrastructureRef: referenceTo(controlPlaneMachineTemplate), nodeDrainTimeout: NODE_DRAIN_TIMEOUT },
      serverConfig: {
        cni: 'cilium',
        // New clusters get the HAProxy ingress controller as a Capstan add-on; RKE2's packaged
        // ingress-nginx is retired upstream (docs: ingress and CVEs).
        ingressController: ['none'],
        etcd: { backupConfig: etcdBackupConfig(settings) },
      },
      agentConfig: {},
    },
  };
  const cluster: Manifest = {
    apiVersion: CLUSTER_API_VERSION,
    kind: 'Cluster',
    metadata: { name: names.cluster, namespace, labels },
    spec: {
      clusterNetwork: { pods: { cidrBlocks: [POD_CIDR] }, services: { cidrBlocks: [SERVICE_CIDR] }, serviceDomain: 'cluster.local' },
      controlPlaneRef: referenceTo(controlPlane),
      infrastructureRef: referenceTo(infrastructureCluster),
    },
  };
  return { infrastructureCluster, controlPlaneMachineTemplate, controlPlane, cluster };
}

/**
 * RKE2's snapshot settings as CAPRKE2 carries them: schedule and retention (RKE2's defaults),
 * and the S3 target when the installation has one (docs/rke2-driver.md, "Backups"). CAPRKE2
 * wants the credentials as a reference to a Secret in the cluster's namespace.
 */
function etcdBackupConfig(settings: Rke2DriverSettings): Record<string, unknown> {
  const s3 = settings.etcdS3;
  return {
    scheduleCron: ETCD_SNAPSHOT_SCHEDULE,
    retention: ETCD_SNAPSHOT_RETENTION,
    ...(s3
      ? {
          s3: {
            endpoint: s3.endpoint,
            bucket: s3.bucket,
            ...(s3.folder ? { folder: s3.folder } : {}),
            ...(s3.region ? { region: s3.region } : {}),
            ...(s3.credentialsSecret
              ? { s3CredentialSecret: { apiVersion: 'v1', kind: 'Secret', name: s3.credentialsSecret, namespace: settings.namespace } }
              : {}),
          },
        }
      : {}),
  };
}
