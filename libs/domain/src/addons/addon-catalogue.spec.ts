import { caught as thrown } from '../test/thrown';
import {
  ADDON_CATALOGUE_SEED,
  type AddonRelease,
  addonChangesBetween,
  addonReleaseFor,
  addonsMissingAt,
  assertReleaseFitsCatalogue,
  assertValidAddonRelease,
  compareChartVersions,
  helmValuesFor,
} from './addon-catalogue';

const releases = ADDON_CATALOGUE_SEED.releases;
const keda = (version: string, minMinor: string, maxMinor: string): AddonRelease => ({
  ...releases.find((r) => r.name === 'keda')!,
  version,
  minMinor,
  maxMinor,
});

describe('add-on catalogue', () => {
  it('names a source for every compatibility claim and holds every tier the brief lists', () => {
    for (const r of releases) expect(r.source.length).toBeGreaterThan(10);
    const tierOf = (name: string) => releases.find((r) => r.name === name)?.tier;
    expect(['cilium', 'coredns', 'csi-driver'].map(tierOf)).toEqual(['always_on', 'always_on', 'always_on']);
    expect(['haproxy-ingress', 'cert-manager', 'kube-prometheus-stack'].map(tierOf)).toEqual(['default', 'default', 'default']);
    expect(['loki', 'argo-cd', 'external-secrets', 'harbor', 'velero', 'keda'].map(tierOf)).toEqual(Array(6).fill('optional'));
  });

  it("picks the newest release qualified for the cluster's minor, as KEDA's compatibility table reads", () => {
    expect(addonReleaseFor(releases, 'keda', '1.31.4')?.version).toBe('2.18.1');
    expect(addonReleaseFor(releases, 'keda', '1.33.0')?.version).toBe('2.20.0');
    expect(addonReleaseFor(releases, 'keda', '1.36.2')?.version).toBe('2.21.0');
    expect(addonReleaseFor(releases, 'keda', '1.30.0')).toBeNull();
  });

  it('finds the add-ons with no qualified release for a minor', () => {
    expect(addonsMissingAt(releases, '1.36', ['argo-cd', 'keda', 'cert-manager'])).toEqual(['argo-cd']);
    expect(addonsMissingAt(releases, '1.35', ['argo-cd', 'keda'])).toEqual([]);
  });

  it('lists the version changes of a move between minors, only for the add-ons given', () => {
    const changes = addonChangesBetween([keda('2.19.0', '1.32', '1.34'), keda('2.20.0', '1.33', '1.35')], ['keda'], '1.32.4', '1.33.1');
    expect(changes).toEqual([{ name: 'keda', from: '2.19.0', to: '2.20.0' }]);
    expect(addonChangesBetween(releases, [], '1.32.4', '1.33.1')).toEqual([]);
  });

  it('orders chart versions numerically, with or without a leading v', () => {
    expect(compareChartVersions('v1.21.2', 'v1.9.9')).toBeGreaterThan(0);
    expect(compareChartVersions('2.10.0', '2.9.0')).toBeGreaterThan(0);
    expect(compareChartVersions('1.0.0', 'v1.0.0')).toBe(0);
  });

  it('refuses a row without a source, with its minors reversed or with an open settings schema', () => {
    const base = keda('2.21.0', '1.34', '1.36');
    expect(() => assertValidAddonRelease(base)).not.toThrow();
    expect(thrown(() => assertValidAddonRelease({ ...base, source: ' ' }))).toMatchObject({ type: 'addon-release-invalid' });
    expect(thrown(() => assertValidAddonRelease({ ...base, minMinor: '1.36', maxMinor: '1.34' })).message).toContain('min_minor is after max_minor');
    expect(thrown(() => assertValidAddonRelease({ ...base, settingsSchema: { type: 'object' } })).message).toContain('additionalProperties');
  });

  it('refuses a version of an add-on with another tier than its other versions, naming the rule', () => {
    const next = keda('9.0.0', '1.34', '1.36');
    expect(() => assertReleaseFitsCatalogue(next, releases)).not.toThrow();
    expect(thrown(() => assertReleaseFitsCatalogue({ ...next, tier: 'default' }, releases))).toMatchObject({
      type: 'addon-release-invalid',
      extensions: { rule: 'one tier per add-on' },
    });
    // The only version of an add-on may change tier: there is no other to disagree with.
    expect(() => assertReleaseFitsCatalogue({ ...next, name: 'brand-new', tier: 'default' }, releases)).not.toThrow();
  });

  it("refuses kube-system for an add-on that is not already there: it is the distribution's own namespace", () => {
    const next = keda('9.0.0', '1.34', '1.36');
    expect(thrown(() => assertReleaseFitsCatalogue({ ...next, namespace: 'kube-system' }, releases))).toMatchObject({
      type: 'addon-release-invalid',
      extensions: { rule: 'kube-system belongs to the distribution' },
    });
    expect(thrown(() => assertReleaseFitsCatalogue({ ...next, name: 'brand-new', namespace: 'kube-system' }, releases))).toMatchObject({
      extensions: { rule: 'kube-system belongs to the distribution' },
    });
    // CoreDNS and Cilium are the distribution's components and stay where they run.
    const coredns = releases.find((r) => r.name === 'coredns')!;
    expect(() => assertReleaseFitsCatalogue({ ...coredns, version: '9.9.9' }, releases)).not.toThrow();
  });

  it('refuses a settings property that names no chart value: a customer would set it and nothing would change', () => {
    const base = keda('2.21.0', '1.34', '1.36');
    const schema = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, properties });
    const unmapped = thrown(() => assertValidAddonRelease({ ...base, settingsSchema: schema({ replicas: { type: 'integer' } }) }));
    expect(unmapped).toMatchObject({ type: 'addon-release-invalid' });
    expect(unmapped.message).toContain('settings_schema property replicas has no x-helm-value');
    expect(
      thrown(() => assertValidAddonRelease({ ...base, settingsSchema: schema({ replicas: { type: 'integer', 'x-helm-value': ' ' } }) })).message,
    ).toContain('replicas');
    expect(() =>
      assertValidAddonRelease({ ...base, settingsSchema: schema({ replicas: { type: 'integer', 'x-helm-value': 'operator.replicaCount' } }) }),
    ).not.toThrow();
  });

  it('turns settings into the Helm values their schema names', () => {
    const argo = releases.find((r) => r.name === 'argo-cd')!;
    expect(helmValuesFor(argo, { ha: true, server_replicas: 2 })).toEqual({ 'redis-ha.enabled': true, 'server.replicas': 2 });
  });
});
