import type { DriverRegistry, InfrastructureProvider } from '@capstan/providers';
import { TenantKube, type TenantKubeOptions } from './tenant-kube';

/**
 * TenantKube for a cluster by its provider and external name, with the admin access its driver
 * gives. Access is asked for on every call rather than cached: it may expire or be rotated, and a
 * step that resumes after a crash must not hold on to the old one.
 */
export class TenantKubes {
  constructor(
    private readonly drivers: DriverRegistry,
    private readonly options: TenantKubeOptions = {},
  ) {}

  async forCluster(provider: InfrastructureProvider, externalName: string): Promise<TenantKube> {
    return new TenantKube(await this.drivers.driverFor(provider).adminAccess(externalName), this.options);
  }
}
