import { loadConfig } from '@capstan/platform';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProviderError } from './cluster-provider';
import { ConfiguredDriverRegistry } from './driver-registry';
import { rke2DriverSource, rke2SettingsFrom } from './driver-registry.module';
import { Rke2Driver } from './rke2/rke2-driver';

const env = {
  DATABASE_URL: 'postgresql://capstan@127.0.0.1:5432/capstan',
  REDIS_URL: 'redis://127.0.0.1:6379',
  SECRETS_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
};

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{ name: management, cluster: { server: 'https://127.0.0.1:6443' } }]
users: [{ name: capstan, user: { token: abc } }]
contexts: [{ name: capstan, context: { cluster: management, user: capstan } }]
current-context: capstan
`;

describe('ConfiguredDriverRegistry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rke2-registry-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds the RKE2 driver once, from the configured management kubeconfig', () => {
    const path = join(dir, 'management.yaml');
    writeFileSync(path, KUBECONFIG);
    const registry = new ConfiguredDriverRegistry({
      rke2: rke2DriverSource(loadConfig({ ...env, RKE2_MANAGEMENT_KUBECONFIG: path }).rke2),
      gke: { unavailable: 'not yet' },
    });
    const driver = registry.driverFor('rke2');
    expect(driver).toBeInstanceOf(Rke2Driver);
    expect(registry.driverFor('rke2')).toBe(driver);
  });

  it('fails the calls for a provider without a driver for good, saying why', () => {
    const registry = new ConfiguredDriverRegistry({
      rke2: rke2DriverSource(loadConfig(env).rke2),
      gke: { unavailable: 'the GKE driver is not part of this release yet' },
    });
    for (const provider of ['rke2', 'gke'] as const) {
      const error = (() => {
        try {
          registry.driverFor(provider);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ retryable: false, code: 'driver_unavailable' });
    }
    expect(() => registry.driverFor('rke2')).toThrow(/RKE2_MANAGEMENT_KUBECONFIG/);
  });

  it('stops the boot with one line when the kubeconfig path cannot be read', () => {
    expect(() => rke2DriverSource(loadConfig({ ...env, RKE2_MANAGEMENT_KUBECONFIG: join(dir, 'missing.yaml') }).rke2)).toThrow(
      /^RKE2_MANAGEMENT_KUBECONFIG: cannot read .*missing\.yaml \(ENOENT\)$/,
    );
  });
});

describe('RKE2 settings', () => {
  it('default to the emulator: Cluster API dev kinds in capstan-clusters, three servers', () => {
    const settings = rke2SettingsFrom(loadConfig(env).rke2);
    expect(settings).toMatchObject({ namespace: 'capstan-clusters', controlPlaneReplicas: 3, rke2Revision: 'rke2r1' });
    expect(settings.infrastructure).toMatchObject({
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1',
      clusterKind: 'DevCluster',
      machineTemplateKind: 'DevMachineTemplate',
    });
  });

  it('take a configured infrastructure provider and its machine spec', () => {
    const settings = rke2SettingsFrom(
      loadConfig({
        ...env,
        RKE2_NAMESPACE: 'tenants',
        RKE2_CONTROL_PLANE_REPLICAS: '1',
        RKE2_INFRASTRUCTURE_TEMPLATE_API_VERSION: 'infrastructure.cluster.x-k8s.io/v1beta1',
        RKE2_INFRASTRUCTURE_TEMPLATE_KIND: 'Metal3MachineTemplate',
        RKE2_INFRASTRUCTURE_MACHINE_SPEC: '{"hostSelector":{"matchLabels":{"class":"{{machineType}}"}}}',
      }).rke2,
    );
    expect(settings).toMatchObject({ namespace: 'tenants', controlPlaneReplicas: 1 });
    expect(settings.infrastructure.clusterKind).toBe('Metal3Cluster');
    expect(settings.infrastructure.machineSpec('gpu-8')).toEqual({ hostSelector: { matchLabels: { class: 'gpu-8' } } });
  });

  it.each([
    ['RKE2_CONTROL_PLANE_REPLICAS', '2', 'must be 1, 3 or 5'],
    ['RKE2_NAMESPACE', 'Capstan_Clusters', 'must be a namespace name'],
    ['RKE2_INFRASTRUCTURE_TEMPLATE_KIND', 'metal3machinetemplate', 'must be a Kubernetes kind'],
    ['RKE2_INFRASTRUCTURE_TEMPLATE_API_VERSION', 'v1beta1', 'must be group/version'],
    ['RKE2_INFRASTRUCTURE_MACHINE_SPEC', '[1,2]', 'must be a JSON object'],
  ])('refuse %s=%s in one line', (setting, value, message) => {
    expect(() => loadConfig({ ...env, [setting]: value })).toThrow(`Invalid configuration: ${setting} ${message}`);
  });
});
