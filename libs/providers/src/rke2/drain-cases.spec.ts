/**
 * Drain cases (docs/upgrades.md, "Drains"): Capstan never has a pod force-deleted. Cluster API
 * drains a Machine it deletes through the Eviction API, which honours PodDisruptionBudgets; with
 * `nodeDrainTimeout` set it deletes the Machine once the timeout passed, drained or not, so the pods
 * a budget protects go anyway. Unset, it drains "without any time limitations"
 * (cluster-api.sigs.k8s.io, Machine `spec.nodeDrainTimeout`; the same field in RKE2ControlPlane's
 * `machineTemplate`).
 */
import type { ExternalClusterSpec, ExternalNodePoolSpec } from '../cluster-provider';
import { buildClusterObjects, clusterLabels } from './cluster-objects';
import { buildNodePoolObjects } from './pool-objects';
import { DEFAULT_RKE2_SETTINGS, devInfrastructure, type Rke2DriverSettings } from './rke2-settings';

const settings: Rke2DriverSettings = { ...DEFAULT_RKE2_SETTINGS, infrastructure: devInfrastructure() };
const CLUSTER = 'capstan-01jf8zq3w6e4m0t9d4x7c2v5b8';
const cluster: ExternalClusterSpec = {
  name: CLUSTER,
  flavour: 'rke2',
  region: 'nine-cz41',
  version: '1.35.4',
  labels: {},
  organizationId: 'org_01jf8zq3w6e4m0t9d4x7c2v5ba',
};
const pool: ExternalNodePoolSpec = {
  name: 'pool-01jf8zq3w6e4m0t9d4x7c2v5b9',
  machineType: 'standard-4',
  count: 3,
  autoscaling: null,
  version: '1.35.4',
  labels: {},
  taints: [],
  maxSurge: 1,
  maxUnavailable: 0,
};

/** Every key path in `value` whose last key is `key`. */
function pathsOf(value: unknown, key: string, at = ''): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => [...(k === key ? [`${at}${k}`] : []), ...pathsOf(v, key, `${at}${k}.`)]);
}

describe('no forced drains on RKE2', () => {
  it('gives the control plane and every pool no nodeDrainTimeout, so a budget-blocked drain waits instead of deleting pods', () => {
    const objects = [
      ...Object.values(buildClusterObjects(cluster, settings)),
      ...Object.values(buildNodePoolObjects(CLUSTER, pool, settings, clusterLabels(CLUSTER, cluster.organizationId))),
    ];
    expect(objects.length).toBeGreaterThan(4);
    expect(objects.flatMap((o) => pathsOf(o, 'nodeDrainTimeout'))).toEqual([]);
  });

  it('rolls a pool as its surge settings say: one new machine first, none taken out before it is ready (maxSurge 1, maxUnavailable 0)', () => {
    const { machineDeployment } = buildNodePoolObjects(CLUSTER, pool, settings, clusterLabels(CLUSTER, cluster.organizationId));
    expect(machineDeployment.spec).toMatchObject({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
  });
});
