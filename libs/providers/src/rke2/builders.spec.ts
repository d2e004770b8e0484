import type { ExternalClusterSpec, ExternalNodePoolSpec } from '../cluster-provider';
import { ProviderError } from '../cluster-provider';
import { AUTOSCALER_MAX_ANNOTATION, AUTOSCALER_MIN_ANNOTATION, CLUSTER_LABEL, NODE_POOL_LABEL, ORGANIZATION_LABEL } from './api-versions';
import { buildClusterObjects, clusterLabels } from './cluster-objects';
import type { Manifest } from './manifest';
import { buildNodePoolObjects, nodePoolPatch } from './pool-objects';
import { configuredInfrastructure, DEFAULT_RKE2_SETTINGS, devInfrastructure, type Rke2DriverSettings } from './rke2-settings';
import { CRD_FILES } from './testing/crd-files';
import { CrdSchemas } from './testing/crd-schemas';

const schemas = new CrdSchemas();
for (const file of CRD_FILES) schemas.load(file);

const settings: Rke2DriverSettings = { ...DEFAULT_RKE2_SETTINGS, infrastructure: devInfrastructure() };
const CLUSTER = 'capstan-01jf8zq3w6e4m0t9d4x7c2v5b8';
const POOL = 'pool-01jf8zq3w6e4m0t9d4x7c2v5b9';

const clusterSpec = (overrides: Partial<ExternalClusterSpec> = {}): ExternalClusterSpec => ({
  name: CLUSTER,
  flavour: 'rke2',
  region: 'nine-cz41',
  version: '1.35.4',
  labels: { team: 'payments' },
  organizationId: 'org_01jf8zq3w6e4m0t9d4x7c2v5ba',
  ...overrides,
});

const poolSpec = (overrides: Partial<ExternalNodePoolSpec> = {}): ExternalNodePoolSpec => ({
  name: POOL,
  machineType: 'standard-4',
  count: 3,
  autoscaling: null,
  version: '1.35.4',
  labels: { workload: 'general' },
  taints: [],
  maxSurge: 1,
  maxUnavailable: 0,
  ...overrides,
});

/** RFC 7386, as the API server applies a merge patch. */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** What the API server checks of metadata before the schema: a valid name, valid labels. */
function metadataErrors(object: Manifest): string[] {
  const errors: string[] = [];
  const { name, labels = {} } = object.metadata;
  if (!DNS_SUBDOMAIN.test(name) || name.length > 253) errors.push(`name ${name}`);
  for (const [key, value] of Object.entries(labels)) {
    if (!LABEL_KEY.test(key)) errors.push(`label key ${key}`);
    if (!LABEL_VALUE.test(value)) errors.push(`label ${key}=${value}`);
  }
  return errors;
}

const valid = (object: Manifest) =>
  expect({ object: `${object.kind} ${object.metadata.name}`, errors: [...schemas.errors(object), ...metadataErrors(object)] }).toEqual({
    object: `${object.kind} ${object.metadata.name}`,
    errors: [],
  });

describe('the CRD schema check itself', () => {
  it('rejects a misspelt field, a wrong type and a value outside an enum', () => {
    const { controlPlane } = buildClusterObjects(clusterSpec(), settings);
    const broken = structuredClone(controlPlane) as Manifest & { spec: Record<string, unknown> };
    broken.spec.replica = 3;
    (broken.spec.serverConfig as Record<string, unknown>).cni = 'flannel';
    broken.spec.replicas = 'three';
    const errors = schemas.errors(broken);
    expect(errors.join('\n')).toContain('(replica)');
    expect(errors.join('\n')).toContain('/spec/serverConfig/cni');
    expect(errors.join('\n')).toContain('/spec/replicas');
  });

  it('rejects an RKE2 version without the rke2 revision', () => {
    const { controlPlane } = buildClusterObjects(clusterSpec(), settings);
    expect(schemas.errors({ ...controlPlane, spec: { ...controlPlane.spec, version: 'v1.35.4' } }).join()).toContain('/spec/version');
  });
});

describe('buildClusterObjects', () => {
  it.each(['1.33.9', '1.35.4', '1.36.0'])('writes a Cluster, RKE2ControlPlane and infrastructure objects the v1beta1 CRDs accept (%s)', (version) => {
    const objects = buildClusterObjects(clusterSpec({ version }), settings);
    for (const object of Object.values(objects)) valid(object);
  });

  it('asks for the configured servers at the RKE2 release of the version, with Cilium and etcd snapshots', () => {
    const { controlPlane } = buildClusterObjects(clusterSpec(), { ...settings, controlPlaneReplicas: 5 });
    expect(controlPlane.spec).toMatchObject({
      replicas: 5,
      version: 'v1.35.4+rke2r1',
      rolloutStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
      registrationMethod: 'control-plane-endpoint',
      serverConfig: { cni: 'cilium', etcd: { backupConfig: { scheduleCron: '0 */12 * * *', retention: '5' } } },
    });
  });

  it('sends etcd snapshots to the configured S3 bucket and folder, in a shape the CRD accepts', () => {
    const s3 = { endpoint: 'objects.example.ch', bucket: 'capstan-etcd', folder: 'zrh', region: 'ch-zrh-1', credentialsSecret: 'etcd-s3' };
    const { controlPlane } = buildClusterObjects(clusterSpec(), { ...settings, etcdS3: s3 });
    valid(controlPlane);
    expect((controlPlane.spec as { serverConfig: { etcd: unknown } }).serverConfig.etcd).toEqual({
      backupConfig: {
        scheduleCron: '0 */12 * * *',
        retention: '5',
        s3: {
          endpoint: 'objects.example.ch',
          bucket: 'capstan-etcd',
          folder: 'zrh',
          region: 'ch-zrh-1',
          s3CredentialSecret: { apiVersion: 'v1', kind: 'Secret', name: 'etcd-s3', namespace: settings.namespace },
        },
      },
    });
  });

  it('references exactly the objects it builds, all in the one namespace', () => {
    const objects = buildClusterObjects(clusterSpec(), { ...settings, namespace: 'tenants' });
    const spec = objects.cluster.spec as { controlPlaneRef: unknown; infrastructureRef: unknown };
    expect(spec.controlPlaneRef).toEqual({ apiVersion: objects.controlPlane.apiVersion, kind: 'RKE2ControlPlane', name: CLUSTER, namespace: 'tenants' });
    expect(spec.infrastructureRef).toEqual({ apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1', kind: 'DevCluster', name: CLUSTER, namespace: 'tenants' });
    const machineTemplate = (objects.controlPlane.spec as { machineTemplate: { infrastructureRef: { name: string; kind: string } } }).machineTemplate
      .infrastructureRef;
    expect(machineTemplate).toMatchObject({ kind: 'DevMachineTemplate', name: objects.controlPlaneMachineTemplate.metadata.name });
    for (const object of Object.values(objects)) expect(object.metadata.namespace).toBe('tenants');
  });

  it('labels every object with the organisation and cluster ids', () => {
    for (const object of Object.values(buildClusterObjects(clusterSpec(), settings))) {
      expect(object.metadata.labels).toMatchObject({
        [ORGANIZATION_LABEL]: 'org_01jf8zq3w6e4m0t9d4x7c2v5ba',
        [CLUSTER_LABEL]: 'cl_01jf8zq3w6e4m0t9d4x7c2v5b8',
      });
    }
  });

  it('gives the same objects for the same spec (a retry writes what the first attempt wrote)', () => {
    expect(buildClusterObjects(clusterSpec(), settings)).toEqual(buildClusterObjects(clusterSpec(), settings));
  });

  it('uses a configured infrastructure provider kind and its machine spec', () => {
    const infrastructure = configuredInfrastructure({
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1',
      machineTemplateKind: 'Metal3MachineTemplate',
      machineSpecJson: '{"hostSelector":{"matchLabels":{"class":"{{machineType}}"}}}',
    });
    const objects = buildClusterObjects(clusterSpec(), { ...settings, infrastructure, controlPlaneMachineType: 'cp-large' });
    expect(objects.infrastructureCluster.kind).toBe('Metal3Cluster');
    expect(objects.controlPlaneMachineTemplate).toMatchObject({
      kind: 'Metal3MachineTemplate',
      spec: { template: { spec: { hostSelector: { matchLabels: { class: 'cp-large' } } } } },
    });
  });

  it('refuses a version that is not x.y.z', () => {
    expect(() => buildClusterObjects(clusterSpec({ version: '1.35' }), settings)).toThrow(ProviderError);
  });
});

describe('buildNodePoolObjects', () => {
  const owner = clusterLabels(CLUSTER, 'org_01jf8zq3w6e4m0t9d4x7c2v5ba');
  const full = poolSpec({
    autoscaling: { min: 2, max: 6 },
    taints: [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'example.com/spot', value: '', effect: 'PreferNoSchedule' },
    ],
    maxSurge: 2,
    maxUnavailable: 1,
  });

  it.each([
    ['a plain pool', poolSpec()],
    ['an autoscaling, tainted pool', full],
  ])('writes a MachineDeployment and templates the v1beta1 CRDs accept (%s)', (_, spec) => {
    for (const object of Object.values(buildNodePoolObjects(CLUSTER, spec, settings, owner))) valid(object);
  });

  it('scales by replicas, rolls by the pool surge settings, and carries the autoscaler bounds', () => {
    const { machineDeployment } = buildNodePoolObjects(CLUSTER, full, settings, owner);
    expect(machineDeployment.metadata.annotations).toEqual({ [AUTOSCALER_MIN_ANNOTATION]: '2', [AUTOSCALER_MAX_ANNOTATION]: '6' });
    expect(machineDeployment.spec).toMatchObject({
      clusterName: CLUSTER,
      replicas: 3,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } },
      template: {
        metadata: { labels: { workload: 'general', [NODE_POOL_LABEL]: 'np_01jf8zq3w6e4m0t9d4x7c2v5b9' } },
        spec: {
          version: 'v1.35.4+rke2r1',
          taints: [
            { key: 'dedicated', value: 'gpu', effect: 'NoSchedule', propagation: 'Always' },
            { key: 'example.com/spot', effect: 'PreferNoSchedule', propagation: 'Always' },
          ],
        },
      },
    });
  });

  it('keeps the MachineDeployment name a valid label value (Cluster API copies it into one)', () => {
    const { machineDeployment } = buildNodePoolObjects(CLUSTER, poolSpec(), settings, owner);
    expect(machineDeployment.metadata.name.length).toBeLessThanOrEqual(63);
  });

  it('selects its machines by labels a customer label cannot override', () => {
    const { machineDeployment } = buildNodePoolObjects(CLUSTER, poolSpec({ labels: { [NODE_POOL_LABEL]: 'np_other' } }), settings, owner);
    const spec = machineDeployment.spec as { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } };
    for (const [key, value] of Object.entries(spec.selector.matchLabels)) expect(spec.template.metadata.labels[key]).toBe(value);
  });

  it('refuses settings no rollout could follow', () => {
    expect(() => buildNodePoolObjects(CLUSTER, poolSpec({ maxSurge: 0, maxUnavailable: 0 }), settings, owner)).toThrow(/maxSurge or maxUnavailable/);
    expect(() => buildNodePoolObjects(CLUSTER, poolSpec({ taints: [{ key: 'a', value: 'b', effect: 'Sometimes' }] }), settings, owner)).toThrow(/taint effect/);
    expect(() => buildNodePoolObjects(CLUSTER, poolSpec({ autoscaling: { min: 5, max: 2 } }), settings, owner)).toThrow(/not a range/);
  });
});

describe('nodePoolPatch', () => {
  const owner = clusterLabels(CLUSTER, undefined);
  const built = (spec: ExternalNodePoolSpec) => buildNodePoolObjects(CLUSTER, spec, settings, owner).machineDeployment;

  it('is null when the MachineDeployment already has the spec', () => {
    expect(nodePoolPatch(built(poolSpec()), CLUSTER, poolSpec())).toBeNull();
  });

  it.each([
    ['a new count', poolSpec({ count: 5 })],
    ['new labels, one removed', poolSpec({ labels: { tier: 'batch' } })],
    ['taints added', poolSpec({ taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] })],
    ['new surge settings', poolSpec({ maxSurge: 0, maxUnavailable: 2 })],
    ['autoscaling switched on', poolSpec({ autoscaling: { min: 1, max: 4 } })],
  ])('turns the current object into the one the builder makes for %s, still valid', (_, next) => {
    const current = built(poolSpec({ taints: [{ key: 'old', value: 'x', effect: 'NoSchedule' }] }));
    const patched = applyMergePatch(current, nodePoolPatch(current, CLUSTER, next)) as Manifest;
    expect(patched).toEqual(built(next));
    valid(patched);
  });

  it('leaves the autoscaler its replica count inside the bounds, and pulls it back inside new ones', () => {
    const scaled = applyMergePatch(built(poolSpec({ autoscaling: { min: 1, max: 10 } })), { spec: { replicas: 7 } }) as Manifest;
    expect(nodePoolPatch(scaled, CLUSTER, poolSpec({ count: 3, autoscaling: { min: 1, max: 10 } }))).toBeNull();
    expect(nodePoolPatch(scaled, CLUSTER, poolSpec({ count: 3, autoscaling: { min: 1, max: 5 } }))).toMatchObject({ spec: { replicas: 5 } });
  });

  it('removes the autoscaler annotations when autoscaling is switched off', () => {
    const current = built(poolSpec({ autoscaling: { min: 1, max: 4 } }));
    expect(nodePoolPatch(current, CLUSTER, poolSpec())).toMatchObject({
      metadata: { annotations: { [AUTOSCALER_MIN_ANNOTATION]: null, [AUTOSCALER_MAX_ANNOTATION]: null } },
    });
  });

  it('never touches the version (upgrades are their own call)', () => {
    const patch = nodePoolPatch(built(poolSpec()), CLUSTER, poolSpec({ version: '1.36.0', count: 4 }));
    expect(JSON.stringify(patch)).not.toContain('version');
  });
});
