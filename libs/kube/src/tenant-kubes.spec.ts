import { type ClusterAccess, DriverRegistry, type InfrastructureDriver, type InfrastructureProvider } from '@capstan/providers';
import { TenantKube } from './tenant-kube';
import { TenantKubes } from './tenant-kubes';

describe('TenantKubes', () => {
  it("asks the cluster's own driver for admin access on every call", async () => {
    const asked: string[] = [];
    const access: ClusterAccess = { server: 'https://127.0.0.1:6443', caCertificate: 'ca', token: 't', expiresAt: null };
    const registry = new (class extends DriverRegistry {
      driverFor(provider: InfrastructureProvider): InfrastructureDriver {
        return {
          provider,
          adminAccess: async (cluster: string) => (asked.push(`${provider}:${cluster}`), access),
        } as unknown as InfrastructureDriver;
      }
    })();
    const kubes = new TenantKubes(registry);
    expect(await kubes.forCluster('gke', 'capstan-a')).toBeInstanceOf(TenantKube);
    await kubes.forCluster('rke2', 'capstan-b');
    await kubes.forCluster('rke2', 'capstan-b');
    expect(asked).toEqual(['gke:capstan-a', 'rke2:capstan-b', 'rke2:capstan-b']);
  });
});
