import type { ExternalNodePoolSpec, Taint } from '../cluster-provider';
import { ProviderError } from '../cluster-provider';
import {
  AUTOSCALER_MAX_ANNOTATION,
  AUTOSCALER_MIN_ANNOTATION,
  BOOTSTRAP_API_VERSION,
  CAPI_CLUSTER_NAME_LABEL,
  CLUSTER_API_VERSION,
  MACHINE_TYPE_ANNOTATION,
  NODE_POOL_LABEL,
} from './api-versions';
import { type Manifest, referenceTo } from './manifest';
import { nodePoolIdOf, nodePoolObjectNames, rke2Version } from './naming';
import type { Rke2DriverSettings } from './rke2-settings';

/** The objects of one node pool, in the order they are created (the templates first). */
export interface NodePoolObjects {
  bootstrapTemplate: Manifest;
  infrastructureTemplate: Manifest;
  machineDeployment: Manifest;
}

const TAINT_EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/**
 * A MachineDeployment with its RKE2ConfigTemplate and infrastructure machine template: what
 * `ensureNodePool` writes. `clusterLabels` are the owning cluster's (organisation and cluster ids).
 *
 * Node labels and taints sit on the MachineDeployment's machine template (`template.metadata.labels`,
 * `template.spec.taints` with propagation Always), which Cluster API updates in place on existing
 * Machines and their Nodes, so changing them replaces no machine. Labels outside Cluster API's own
 * domains reach Nodes only when the management cluster's Cluster API runs with
 * `--additional-sync-machine-labels` covering them (an installation requirement, docs/rke2-driver.md).
 * The templates themselves never change after creation (Cluster API treats templates as immutable).
 */
export function buildNodePoolObjects(
  cluster: string,
  spec: ExternalNodePoolSpec,
  settings: Rke2DriverSettings,
  clusterLabels: Record<string, string>,
): NodePoolObjects {
  const names = nodePoolObjectNames(cluster, spec.name);
  const namespace = settings.namespace;
  const labels = { ...clusterLabels, [NODE_POOL_LABEL]: nodePoolIdOf(spec.name) };
  const infrastructure = settings.infrastructure;

  const bootstrapTemplate: Manifest = {
    apiVersion: BOOTSTRAP_API_VERSION,
    kind: 'RKE2ConfigTemplate',
    metadata: { name: names.bootstrapTemplate, namespace, labels },
    spec: {
      template: {
        spec: {
          // Set at registration, before Cluster API syncs anything: workloads may select a pool from their first minute.
          agentConfig: { nodeLabels: [`${NODE_POOL_LABEL}=${nodePoolIdOf(spec.name)}`] },
        },
      },
    },
  };
  const infrastructureTemplate: Manifest = {
    apiVersion: infrastructure.apiVersion,
    kind: infrastructure.machineTemplateKind,
    metadata: { name: names.infrastructureTemplate, namespace, labels, annotations: { [MACHINE_TYPE_ANNOTATION]: spec.machineType } },
    spec: { template: { spec: infrastructure.machineSpec(spec.machineType) } },
  };
  const machineDeployment: Manifest = {
    apiVersion: CLUSTER_API_VERSION,
    kind: 'MachineDeployment',
    metadata: { name: names.machineDeployment, namespace, labels, ...autoscalingAnnotations(spec) },
    spec: {
      clusterName: cluster,
      replicas: spec.count,
      selector: { matchLabels: selectorLabels(cluster, spec.name) },
      strategy: rolloutStrategy(spec),
      template: {
        metadata: { labels: machineLabels(cluster, spec) },
        spec: {
          clusterName: cluster,
          version: rke2Version(spec.version, settings.rke2Revision),
          bootstrap: { configRef: referenceTo(bootstrapTemplate) },
          infrastructureRef: referenceTo(infrastructureTemplate),
          ...(spec.taints.length > 0 ? { taints: machineTaints(spec.taints) } : {}),
        },
      },
    },
  };
  return { bootstrapTemplate, infrastructureTemplate, machineDeployment };
}

/**
 * The JSON merge patch that brings an existing MachineDeployment to `spec`'s count, autoscaling,
 * labels, taints and surge settings (not its version: upgrades are their own call), or null when
 * it already has them. With autoscaling the autoscaler owns `replicas`: the patch only pulls it
 * back inside new bounds.
 */
export function nodePoolPatch(current: Manifest, cluster: string, spec: ExternalNodePoolSpec): Record<string, unknown> | null {
  const currentSpec = (current.spec ?? {}) as MachineDeploymentSpec;
  const patch: { metadata?: Record<string, unknown>; spec?: Record<string, unknown> } = {};
  const specPatch: Record<string, unknown> = {};

  const annotations = current.metadata.annotations ?? {};
  const wantedAnnotations = autoscalingAnnotations(spec).annotations ?? {};
  const annotationPatch: Record<string, string | null> = {};
  for (const key of [AUTOSCALER_MIN_ANNOTATION, AUTOSCALER_MAX_ANNOTATION]) {
    const wanted = wantedAnnotations[key] ?? null;
    if ((annotations[key] ?? null) !== wanted) annotationPatch[key] = wanted;
  }
  if (Object.keys(annotationPatch).length > 0) patch.metadata = { annotations: annotationPatch };

  const replicas = currentSpec.replicas;
  const wantedReplicas = spec.autoscaling
    ? replicas === undefined
      ? spec.count
      : Math.min(Math.max(replicas, spec.autoscaling.min), spec.autoscaling.max)
    : spec.count;
  if (replicas !== wantedReplicas) specPatch.replicas = wantedReplicas;

  const strategy = rolloutStrategy(spec);
  const rolling = currentSpec.strategy?.rollingUpdate ?? {};
  if (currentSpec.strategy?.type !== strategy.type || rolling.maxSurge !== spec.maxSurge || rolling.maxUnavailable !== spec.maxUnavailable) {
    specPatch.strategy = strategy;
  }

  const template = currentSpec.template ?? {};
  const templatePatch: { metadata?: Record<string, unknown>; spec?: Record<string, unknown> } = {};
  const currentLabels = template.metadata?.labels ?? {};
  const wantedLabels = machineLabels(cluster, spec);
  const labelPatch: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(wantedLabels)) if (currentLabels[key] !== value) labelPatch[key] = value;
  for (const key of Object.keys(currentLabels)) if (!(key in wantedLabels)) labelPatch[key] = null;
  if (Object.keys(labelPatch).length > 0) templatePatch.metadata = { labels: labelPatch };

  const wantedTaints = spec.taints.length > 0 ? machineTaints(spec.taints) : null;
  if (JSON.stringify(template.spec?.taints ?? null) !== JSON.stringify(wantedTaints)) templatePatch.spec = { taints: wantedTaints };
  if (templatePatch.metadata || templatePatch.spec) specPatch.template = templatePatch;

  if (Object.keys(specPatch).length > 0) patch.spec = specPatch;
  return patch.metadata || patch.spec ? patch : null;
}

interface MachineDeploymentSpec {
  replicas?: number;
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
  template?: { metadata?: { labels?: Record<string, string> }; spec?: { taints?: unknown[]; version?: string } };
}

/** What selects a pool's Machines: stable for the pool's life (a MachineDeployment's selector is immutable). */
export function selectorLabels(cluster: string, pool: string): Record<string, string> {
  return { [CAPI_CLUSTER_NAME_LABEL]: cluster, [NODE_POOL_LABEL]: nodePoolIdOf(pool) };
}

function machineLabels(cluster: string, spec: ExternalNodePoolSpec): Record<string, string> {
  // The selector's labels last: a customer label cannot take a pool's machines out of it.
  return { ...spec.labels, ...selectorLabels(cluster, spec.name) };
}

function rolloutStrategy(spec: ExternalNodePoolSpec) {
  if (spec.maxSurge === 0 && spec.maxUnavailable === 0)
    throw new ProviderError('a node pool needs maxSurge or maxUnavailable above 0, or no rollout could ever start', false, 'invalid_surge');
  // Oldest first: the machines still on the previous version go before newer ones.
  return { type: 'RollingUpdate', rollingUpdate: { maxSurge: spec.maxSurge, maxUnavailable: spec.maxUnavailable, deletePolicy: 'Oldest' } };
}

function autoscalingAnnotations(spec: ExternalNodePoolSpec): { annotations?: Record<string, string> } {
  if (!spec.autoscaling) return {};
  const { min, max } = spec.autoscaling;
  if (!(min >= 0 && max >= min)) throw new ProviderError(`autoscaling bounds ${min}..${max} are not a range`, false, 'invalid_autoscaling');
  return { annotations: { [AUTOSCALER_MIN_ANNOTATION]: String(min), [AUTOSCALER_MAX_ANNOTATION]: String(max) } };
}

/** Capstan's taints as Cluster API's MachineTaints (an empty value is left out: the CRD wants 1+ characters). */
function machineTaints(taints: Taint[]) {
  return taints.map((taint) => {
    if (!TAINT_EFFECTS.has(taint.effect))
      throw new ProviderError(`taint effect "${taint.effect}" is not one of NoSchedule, PreferNoSchedule, NoExecute`, false, 'invalid_taint');
    return { key: taint.key, ...(taint.value ? { value: taint.value } : {}), effect: taint.effect, propagation: 'Always' };
  });
}
