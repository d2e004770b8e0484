/**
 * Skew and planning cases (docs/upgrades.md: version skew, upgrade order, removed APIs), on the
 * shipped catalogues where the case is about real versions.
 */
import { VERSION_CATALOGUE, type VersionCatalogueEntry } from '../catalogue/kubernetes-versions';
import { caught } from '../test/thrown';
import { REMOVED_APIS } from './removed-apis';
import { planUpgrade, type UpgradePlanInput } from './upgrade-planner';
import { validateSurge } from '../node-pools/surge';

const NOW = new Date('2026-12-06T12:00:00Z');
const src = { releasedAt: 't', maintenanceAt: 't', endOfSupportAt: 't', latestPatch: 't' };
const supported = (lo: number, hi: number): VersionCatalogueEntry[] =>
  Array.from({ length: hi - lo + 1 }, (_, i) => ({
    provider: 'rke2' as const,
    minor: `1.${lo + i}`,
    latestPatch: `1.${lo + i}.5`,
    releasedAt: '2025-01-01',
    maintenanceAt: '2029-01-01',
    standardSupportEndsAt: null,
    endOfSupportAt: '2029-03-01',
    sources: src,
  }));

const input = (o: Partial<UpgradePlanInput>): UpgradePlanInput => ({
  provider: 'rke2',
  controlPlaneVersion: '1.33.5',
  pools: [{ id: 'np_a', name: 'default', version: '1.33.5', maxSurge: 1, maxUnavailable: 0 }],
  target: '1.35',
  catalogue: supported(30, 37),
  now: NOW,
  objects: [],
  disruptionBudgets: [],
  exclusions: [],
  ...o,
});

describe('upgrade paths', () => {
  it('plans 1.33 -> 1.35 as two hops, each control plane before its pools', () => {
    const plan = planUpgrade(input({}));
    expect(plan.hops.map((h) => `${h.from}->${h.to}`)).toEqual(['1.33.5->1.34.5', '1.34.5->1.35.5']);
    for (const hop of plan.hops) expect(hop.steps.filter((s) => s.kind !== 'addons').map((s) => s.kind)).toEqual(['control_plane', 'node_pool']);
  });

  it('passes through an end-of-life minor on the way to an offered one (RKE2 1.33 -> 1.35 today)', () => {
    const plan = planUpgrade(input({ catalogue: VERSION_CATALOGUE.entries, controlPlaneVersion: '1.33.10', pools: [] }));
    expect(plan.hops.map((h) => h.to)).toEqual(['1.34.9', '1.35.5']);
  });

  it('refuses an end-of-life target (RKE2 1.34 today), a downgrade and the version the cluster runs', () => {
    expect(caught(() => planUpgrade(input({ catalogue: VERSION_CATALOGUE.entries, controlPlaneVersion: '1.33.10', pools: [], target: '1.34' }))).type).toBe(
      'version-end-of-life',
    );
    expect(caught(() => planUpgrade(input({ target: '1.32' }))).extensions.rule).toBe('never downgrade');
    expect(caught(() => planUpgrade(input({ controlPlaneVersion: '1.33.5', target: '1.33.5', catalogue: supported(30, 37) }))).type).toBe('already-at-version');
    expect(caught(() => planUpgrade(input({ controlPlaneVersion: '1.33.5', target: '1.33' }))).type).toBe('already-at-version');
  });

  it('takes the provider spellings of the target: v1.35.5+rke2r1 on RKE2, 1.35.8 on GKE', () => {
    expect(planUpgrade(input({ target: 'v1.35.5+rke2r1' })).to).toBe('1.35.5');
    const gke = planUpgrade({
      ...input({ provider: 'gke', catalogue: VERSION_CATALOGUE.entries, target: '1.35.8' }),
      controlPlaneVersion: '1.35.6-gke.100',
      pools: [{ id: 'np_a', name: 'default', version: '1.35.6-gke.100', maxSurge: 1, maxUnavailable: 0 }],
    });
    expect(gke.to).toBe('1.35.8-gke.1225000');
  });

  it('never leaves a kubelet newer than the API server or more than three minors older after any step', () => {
    const plan = planUpgrade(
      input({
        controlPlaneVersion: '1.33.5',
        target: '1.36',
        pools: [
          { id: 'a', name: 'old', version: '1.30.5', maxSurge: 1, maxUnavailable: 0 },
          { id: 'b', name: 'mid', version: '1.32.5', maxSurge: 1, maxUnavailable: 0 },
        ],
      }),
    );
    const steps = plan.hops.flatMap((h) => h.steps);
    expect(steps.every((s) => s.skew.ok)).toBe(true);
    // before the control plane goes 1.33 -> 1.34, the pool at 1.30 (N-3) is first brought to 1.33
    expect(steps[0]).toMatchObject({ kind: 'node_pool_catch_up', pool: 'old', to: '1.33.5' });
  });

  it('blocks on a pool newer than its control plane', () => {
    const plan = planUpgrade(input({ pools: [{ id: 'a', name: 'ahead', version: '1.34.5', maxSurge: 1, maxUnavailable: 0 }] }));
    expect(plan.blockers).toEqual([expect.objectContaining({ kind: 'pool_outside_skew', details: { pool: 'ahead', version: '1.34.5' } })]);
  });

  it('moves CoreDNS 1.11.3 -> 1.14.6 with the 1.32 -> 1.33 hop, and Cilium 1.18 -> 1.19 with 1.31 -> 1.32', () => {
    const plan = planUpgrade(input({ controlPlaneVersion: '1.31.5', pools: [], target: '1.33' }));
    const changes = plan.hops.map((h) => h.steps.find((s) => s.kind === 'addons'));
    expect(changes[0]).toMatchObject({ changes: expect.arrayContaining([{ name: 'cilium', from: '1.18.4', to: '1.19.6' }]) });
    expect(changes[1]).toMatchObject({ changes: expect.arrayContaining([{ name: 'coredns', from: '1.11.3', to: '1.14.6' }]) });
  });
});

describe('surge settings', () => {
  it('refuses maxSurge and maxUnavailable both 0, and accepts either alone', () => {
    expect(() => validateSurge(0, 0)).toThrow();
    expect(() => validateSurge(1, 0)).not.toThrow();
    expect(() => validateSurge(0, 1)).not.toThrow();
  });
});

/**
 * Every group/version/kind the deprecation guide lists for 1.22 and later, with the version it
 * tells to migrate to (kubernetes.io/docs/reference/using-api/deprecation-guide), transcribed
 * independently of REMOVED_APIS. null: no successor.
 */
const GUIDE: [string, string, string, string | null][] = [
  ['1.22', 'admissionregistration.k8s.io/v1beta1', 'MutatingWebhookConfiguration', 'admissionregistration.k8s.io/v1'],
  ['1.22', 'admissionregistration.k8s.io/v1beta1', 'ValidatingWebhookConfiguration', 'admissionregistration.k8s.io/v1'],
  ['1.22', 'apiextensions.k8s.io/v1beta1', 'CustomResourceDefinition', 'apiextensions.k8s.io/v1'],
  ['1.22', 'apiregistration.k8s.io/v1beta1', 'APIService', 'apiregistration.k8s.io/v1'],
  ['1.22', 'authentication.k8s.io/v1beta1', 'TokenReview', 'authentication.k8s.io/v1'],
  ['1.22', 'authorization.k8s.io/v1beta1', 'SubjectAccessReview', 'authorization.k8s.io/v1'],
  ['1.22', 'authorization.k8s.io/v1beta1', 'LocalSubjectAccessReview', 'authorization.k8s.io/v1'],
  ['1.22', 'authorization.k8s.io/v1beta1', 'SelfSubjectAccessReview', 'authorization.k8s.io/v1'],
  ['1.22', 'certificates.k8s.io/v1beta1', 'CertificateSigningRequest', 'certificates.k8s.io/v1'],
  ['1.22', 'coordination.k8s.io/v1beta1', 'Lease', 'coordination.k8s.io/v1'],
  ['1.22', 'extensions/v1beta1', 'Ingress', 'networking.k8s.io/v1'],
  ['1.22', 'networking.k8s.io/v1beta1', 'Ingress', 'networking.k8s.io/v1'],
  ['1.22', 'networking.k8s.io/v1beta1', 'IngressClass', 'networking.k8s.io/v1'],
  ['1.22', 'rbac.authorization.k8s.io/v1beta1', 'ClusterRole', 'rbac.authorization.k8s.io/v1'],
  ['1.22', 'rbac.authorization.k8s.io/v1beta1', 'ClusterRoleBinding', 'rbac.authorization.k8s.io/v1'],
  ['1.22', 'rbac.authorization.k8s.io/v1beta1', 'Role', 'rbac.authorization.k8s.io/v1'],
  ['1.22', 'rbac.authorization.k8s.io/v1beta1', 'RoleBinding', 'rbac.authorization.k8s.io/v1'],
  ['1.22', 'scheduling.k8s.io/v1beta1', 'PriorityClass', 'scheduling.k8s.io/v1'],
  ['1.22', 'storage.k8s.io/v1beta1', 'CSIDriver', 'storage.k8s.io/v1'],
  ['1.22', 'storage.k8s.io/v1beta1', 'CSINode', 'storage.k8s.io/v1'],
  ['1.22', 'storage.k8s.io/v1beta1', 'StorageClass', 'storage.k8s.io/v1'],
  ['1.22', 'storage.k8s.io/v1beta1', 'VolumeAttachment', 'storage.k8s.io/v1'],
  ['1.25', 'batch/v1beta1', 'CronJob', 'batch/v1'],
  ['1.25', 'discovery.k8s.io/v1beta1', 'EndpointSlice', 'discovery.k8s.io/v1'],
  ['1.25', 'events.k8s.io/v1beta1', 'Event', 'events.k8s.io/v1'],
  ['1.25', 'autoscaling/v2beta1', 'HorizontalPodAutoscaler', 'autoscaling/v2'],
  ['1.25', 'policy/v1beta1', 'PodDisruptionBudget', 'policy/v1'],
  ['1.25', 'policy/v1beta1', 'PodSecurityPolicy', null],
  ['1.25', 'node.k8s.io/v1beta1', 'RuntimeClass', 'node.k8s.io/v1'],
  ['1.26', 'flowcontrol.apiserver.k8s.io/v1beta1', 'FlowSchema', null],
  ['1.26', 'flowcontrol.apiserver.k8s.io/v1beta1', 'PriorityLevelConfiguration', null],
  ['1.26', 'autoscaling/v2beta2', 'HorizontalPodAutoscaler', 'autoscaling/v2'],
  ['1.27', 'storage.k8s.io/v1beta1', 'CSIStorageCapacity', 'storage.k8s.io/v1'],
  ['1.29', 'flowcontrol.apiserver.k8s.io/v1beta2', 'FlowSchema', 'flowcontrol.apiserver.k8s.io/v1'],
  ['1.29', 'flowcontrol.apiserver.k8s.io/v1beta2', 'PriorityLevelConfiguration', 'flowcontrol.apiserver.k8s.io/v1'],
  ['1.32', 'flowcontrol.apiserver.k8s.io/v1beta3', 'FlowSchema', 'flowcontrol.apiserver.k8s.io/v1'],
  ['1.32', 'flowcontrol.apiserver.k8s.io/v1beta3', 'PriorityLevelConfiguration', 'flowcontrol.apiserver.k8s.io/v1'],
];

describe('the removed-API table against the deprecation guide', () => {
  it.each(GUIDE)('%s removes %s %s', (removedIn, apiVersion, kind, replacement) => {
    const row = REMOVED_APIS.find((r) => r.apiVersion === apiVersion && r.kind === kind);
    expect(row).toBeDefined();
    expect(row!.removedIn).toBe(removedIn);
    // the guide's 1.26 flowcontrol target (v1beta2/v1beta3) is itself removed since; any served successor will do there
    if (replacement !== null || removedIn !== '1.26') expect(row!.replacement).toBe(replacement);
  });

  it('never names a replacement that the target no longer serves: a v1beta1 FlowSchema is told to move to v1 on the way to 1.33', () => {
    const plan = planUpgrade(
      input({
        controlPlaneVersion: '1.25.5',
        pools: [],
        target: '1.33',
        catalogue: supported(20, 37),
        objects: [{ apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta1', kind: 'FlowSchema', name: 'mine' }],
      }),
    );
    expect(plan.blockers.find((b) => b.kind === 'removed_api')!.details).toMatchObject({ removed_in: '1.26', replacement: 'flowcontrol.apiserver.k8s.io/v1' });
  });

  it('names every object the preflight finds, namespaced or not, with its replacement', () => {
    const objects = [
      { apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3', kind: 'FlowSchema', name: 'fs-a' },
      { apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3', kind: 'PriorityLevelConfiguration', name: 'plc-a' },
      { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', name: 'fine' },
    ];
    const plan = planUpgrade(input({ controlPlaneVersion: '1.31.5', pools: [], target: '1.33', objects }));
    const found = plan.blockers.filter((b) => b.kind === 'removed_api');
    expect(found.map((b) => b.details.name)).toEqual(['fs-a', 'plc-a']);
    expect(found.map((b) => b.reason)).toEqual([
      expect.stringMatching(/FlowSchema fs-a .*1\.32.*flowcontrol\.apiserver\.k8s\.io\/v1$/),
      expect.stringMatching(/PriorityLevelConfiguration plc-a/),
    ]);
  });
});
